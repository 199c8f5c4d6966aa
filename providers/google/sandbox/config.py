"""The Google half's command-line flags (each with a SANDBOX_GOOGLE_* environment default)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from .tree import DataConfig

DEFAULT_CLIENT_ID = "sous-local.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "GOCSPX-sous-local-secret"
DEFAULT_REDIRECT_URIS = (
    "http://localhost:8000/integrations/callback/google",
    "http://127.0.0.1:8000/integrations/callback/google",
)


class _ReplacingAppend(argparse.Action):
    """Like action="append", but the first use replaces the default instead of adding to it."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        marker = f"_{self.dest}_given"
        current = list(getattr(namespace, self.dest)) if getattr(namespace, marker, False) else []
        setattr(namespace, self.dest, [*current, values])
        setattr(namespace, marker, True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    group = parser.add_argument_group("Google sandbox")
    group.add_argument(
        "--google-client-id",
        default=env("SANDBOX_GOOGLE_CLIENT_ID", DEFAULT_CLIENT_ID),
        help="the registered OAuth client id (env SANDBOX_GOOGLE_CLIENT_ID)",
    )
    group.add_argument(
        "--google-client-secret",
        default=env("SANDBOX_GOOGLE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET),
        help="its client secret (env SANDBOX_GOOGLE_CLIENT_SECRET)",
    )
    uris = [u.strip() for u in env("SANDBOX_GOOGLE_REDIRECT_URIS", "").split(",") if u.strip()]
    group.add_argument(
        "--google-redirect-uri",
        action=_ReplacingAppend,
        default=uris or list(DEFAULT_REDIRECT_URIS),
        help="a registered redirect URI, repeatable (env SANDBOX_GOOGLE_REDIRECT_URIS: a,b,...)",
    )
    group.add_argument(
        "--google-files-per-folder",
        type=int,
        default=int(env("SANDBOX_GOOGLE_FILES_PER_FOLDER", "4")),
        help="files in each generated folder (env SANDBOX_GOOGLE_FILES_PER_FOLDER)",
    )
    group.add_argument(
        "--google-invoice-months",
        type=int,
        default=int(env("SANDBOX_GOOGLE_INVOICE_MONTHS", "6")),
        help="months under Accounting/Invoices (env SANDBOX_GOOGLE_INVOICE_MONTHS)",
    )
    group.add_argument(
        "--google-extra-folders",
        type=int,
        default=int(env("SANDBOX_GOOGLE_EXTRA_FOLDERS", "0")),
        help="folders under Kitchen/Recipes/Archive (env SANDBOX_GOOGLE_EXTRA_FOLDERS)",
    )
    group.add_argument(
        "--google-access-token-ttl",
        type=int,
        default=int(env("SANDBOX_GOOGLE_ACCESS_TOKEN_TTL", "3599")),
        help="access token lifetime in seconds (env SANDBOX_GOOGLE_ACCESS_TOKEN_TTL)",
    )
    group.add_argument(
        "--google-code-ttl",
        type=int,
        default=int(env("SANDBOX_GOOGLE_CODE_TTL", "600")),
        help="authorization code lifetime in seconds (env SANDBOX_GOOGLE_CODE_TTL)",
    )


@dataclass(frozen=True)
class GoogleConfig:
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    redirect_uris: tuple[str, ...] = DEFAULT_REDIRECT_URIS
    data: DataConfig = DataConfig()
    access_token_ttl: int = 3599
    code_ttl: int = 600

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> GoogleConfig:
        """Read the flags; a namespace without them (a hand-built context) gets the defaults."""
        base = cls()

        def get(name: str, default):
            value = getattr(args, name, None)
            return default if value is None else value

        return cls(
            client_id=get("google_client_id", base.client_id),
            client_secret=get("google_client_secret", base.client_secret),
            redirect_uris=tuple(get("google_redirect_uri", base.redirect_uris)),
            data=DataConfig(
                files_per_folder=get("google_files_per_folder", base.data.files_per_folder),
                invoice_months=get("google_invoice_months", base.data.invoice_months),
                extra_folders=get("google_extra_folders", base.data.extra_folders),
            ),
            access_token_ttl=get("google_access_token_ttl", base.access_token_ttl),
            code_ttl=get("google_code_ttl", base.code_ttl),
        )
