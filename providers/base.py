"""The provider interface and the neutral records providers hand to the rest of Sous.

A `Provider` describes an integration and knows how to talk to it; it is stateless and built
from `AppCredentials` (this deployment's OAuth app). Tokens reach a provider only as arguments
of a call and live in memory for that call. Nothing here imports Django models: the
integrations app stores what providers return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .oauth import OAuthClient


@dataclass(frozen=True)
class AppCredentials:
    """This deployment's OAuth app for one provider, read from settings at call time."""

    client_id: str
    client_secret: str = field(repr=False)
    environment: str  # production | sandbox | local
    local_base_url: str  # the provider sandbox, used when environment == "local"

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)


@dataclass(frozen=True)
class OAuthEndpoints:
    authorize_url: str
    token_url: str
    revoke_url: str


@dataclass(frozen=True)
class Identity:
    """Who the connection belongs to at the provider, for "Connected as"."""

    account_id: str  # Square merchant id, Google subject id
    name: str
    email: str = ""

    @property
    def display(self) -> str:
        return (
            f"{self.name} ({self.email})" if self.email and self.email != self.name else self.name
        )


@dataclass(frozen=True)
class Health:
    healthy: bool
    detail: str  # one line for staff: "Token valid until 25 Dec", "Re-auth required: ..."


@dataclass(frozen=True)
class Action:
    """Something staff can start from the drawer; it runs as a SyncJob of `kind`."""

    key: str  # "catalog": unique within the provider, used in URLs
    label: str  # "Sync Catalog"
    description: str = ""

    def kind(self, provider_key: str) -> str:
        return f"{provider_key}.{self.key}"


class Provider:
    """Describe-and-act interface (STYLE.md §2). Subclasses set the class attributes."""

    key: ClassVar[str]  # package, URL segment, registry key, IntegrationConfig.provider
    name: ClassVar[str]  # "Square"
    tagline: ClassVar[str]  # "Point of Sale & Catalog"
    settings_prefix: ClassVar[str]  # "SQUARE" -> SQUARE_CLIENT_ID, SQUARE_CLIENT_SECRET, ...
    scopes: ClassVar[tuple[str, ...]]
    uses_pkce: ClassVar[bool] = False
    docs_url: ClassVar[str] = ""
    actions: ClassVar[tuple[Action, ...]] = ()

    def __init__(self, credentials: AppCredentials) -> None:
        self.credentials = credentials

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.credentials.environment}>"

    @property
    def logo(self) -> str:
        return f"providers/{self.key}.svg"

    # --- OAuth
    def endpoints(self) -> OAuthEndpoints:
        raise NotImplementedError

    def authorization_params(self) -> dict[str, str]:
        """Extra query parameters for the consent screen (e.g. Google's access_type)."""
        return {}

    def oauth(self) -> OAuthClient:
        raise NotImplementedError

    # --- Using a token
    def identity(self, access_token: str) -> Identity:
        raise NotImplementedError

    def health(self, access_token: str) -> Health:
        """A lightweight call proving the token works; raises Unauthorized when it does not."""
        raise NotImplementedError

    def action(self, key: str) -> Action | None:
        return next((action for action in self.actions if action.key == key), None)
