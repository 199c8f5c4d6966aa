"""The local Google: OAuth 2.0 consent, token and identity endpoints and a Drive v3 subset.

`python -m providers.sandbox` mounts it at `/google` (the paths of accounts.google.com,
oauth2.googleapis.com and www.googleapis.com under one prefix) and its test hooks at
`/_sandbox/google`. The contract is shared/reference/google/README.md; the sections cited in
comments ("README §2.1") are that file's.
"""

from __future__ import annotations

import argparse

from providers.sandbox.core import SandboxContext, SandboxHalf

from .config import GoogleConfig
from .config import add_arguments as _add_arguments
from .half import GoogleHalf


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `--google-*` flags, each defaulting to a SANDBOX_GOOGLE_* environment variable."""
    _add_arguments(parser)


def build(ctx: SandboxContext) -> SandboxHalf:
    return GoogleHalf(ctx, GoogleConfig.from_args(ctx.args))


__all__ = ["GoogleHalf", "add_arguments", "build"]
