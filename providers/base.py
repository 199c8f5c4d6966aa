"""The provider interface and the neutral records providers hand to the rest of Sous.

A `Provider` describes an integration and knows how to talk to it; it is stateless and built
from `AppCredentials` (this deployment's OAuth app). Tokens reach a provider only as arguments
of a call and live in memory for that call. Nothing here imports Django models: the
integrations app stores what providers return.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import msgspec

from .oauth import OAuthClient
from .records.tally import Tally
from .schedules import Cadence


@dataclass(frozen=True)
class AppCredentials:
    """This deployment's OAuth app for one provider, read from settings at call time."""

    client_id: str
    client_secret: str = field(repr=False)
    environment: str  # production | sandbox | local
    local_base_url: str  # the provider sandbox, used when environment == "local"
    # The app's own token for calls made as the app rather than for a merchant (Square's
    # Events API); "" when this deployment has none.
    app_token: str = field(default="", repr=False)

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


class InvalidParams(ValueError):
    """Staff asked for something that cannot run (e.g. a date range ending in the future).

    The message is shown next to the form as is, and no job is created.
    """


@dataclass(frozen=True)
class Progress:
    done: int
    total: int | None = None  # None: unknown (the bar is indeterminate)
    unit: str = ""  # "orders", "files", "months"
    message: str = ""  # "14 of 24 months · 212,310 orders"
    # Share of the work done (0–1), when the provider knows it better than done / total: a
    # sales chunk knows how far through its time window it is before it has seen any order.
    fraction: float | None = None


@dataclass(frozen=True)
class Estimate:
    """How big a requested job is, for the preview staff confirm before it runs."""

    days: int
    locations: int
    orders: int | None  # None: nothing pulled yet to estimate from
    calls: int  # API calls, at least


class Checkpoint(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where an action's work stands after a page. Each action subclasses it with its own
    fields, all with defaults: a first run starts from `Checkpoint()`.

    The engine saves it as JSON after every page and converts it back for a task that resumes
    the job. Unknown fields are refused, so a checkpoint saved in an older shape does not
    half-convert: the engine starts that job over instead.
    """


@dataclass
class Page:
    """One unit of provider work: records to save and where a redelivered task resumes."""

    records: list  # neutral records (providers/records/)
    checkpoint: msgspec.Struct  # the action's Checkpoint: the position after this page
    progress: Progress | None = None
    # JSON saved on the connection when the whole job succeeds, for the next incremental run.
    cursor: dict | None = None


@dataclass(frozen=True)
class SyncRequest:
    """What an action's `pages()` gets; its checkpoint is stored as JSON between tasks, so a
    job can be resumed from the database."""

    params: dict  # validated by the action (a chunk's own params for a child job)
    # The action's Checkpoint: its defaults on a first run, else the last saved page's.
    checkpoint: msgspec.Struct
    cursor: dict  # what the previous successful job left (Page.cursor), {} if none
    settings: dict  # the connection's settings (staff choices: locations, folders, ...)
    now: datetime
    account_id: str = ""  # the connected account's id at the provider (Square merchant id)


@dataclass(frozen=True)
class JobRequest:
    """Work a provider's notification asks for: an action's job with these params."""

    action: str  # the action's key
    params: dict
    detail: str  # what asked, for the job's origin: "3 orders changed"


@dataclass(frozen=True)
class Notification:
    """A provider's webhook event, read from its verified body."""

    event_id: str  # the provider's id: a redelivery carries the same one
    account_id: str  # whose data changed (Square merchant id): routes it to connections
    type: str  # "order.updated"
    occurred_at: datetime | None
    requests: tuple[JobRequest, ...] = ()
    # The account withdrew Sous's access (in the provider's dashboard): the connection needs
    # re-auth now, and its jobs stop.
    revoked: bool = False


class InvalidNotification(ValueError):
    """A body that verified but is not an event Sous can read."""


@dataclass(frozen=True)
class PushChannel:
    """A notification channel Sous opened for one connection (Drive's changes.watch)."""

    id: str  # Sous's id for it, unique per app
    resource_id: str  # the provider's id of what it watches (needed to stop it)
    expires_at: datetime  # as the provider granted it: it ends then, unless renewed


@dataclass(frozen=True)
class Push:
    """A notification on a push channel, read from its headers (Drive's body is empty)."""

    channel_id: str
    token: str  # what Sous gave the channel, echoed back: how Sous knows it is genuine
    state: str  # "sync" when the channel opens, then "change"
    number: int  # grows per channel; a redelivery carries the same one

    @property
    def event_id(self) -> str:
        return f"{self.channel_id}:{self.number}"

    def stored(self) -> bytes:
        """What Sous keeps once the token checked out: everything but the token."""
        return msgspec.json.encode(
            {"channel_id": self.channel_id, "state": self.state, "number": self.number}
        )

    @classmethod
    def from_stored(cls, body: bytes) -> Push:
        try:
            fields = msgspec.json.decode(body, type=dict[str, str | int])
            return cls(str(fields["channel_id"]), "", str(fields["state"]), int(fields["number"]))
        except (msgspec.DecodeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidNotification(f"not a stored push notification: {exc}") from None


class Action:
    """Something staff can start from the drawer; it runs as a SyncJob of kind `<provider>.<key>`.

    Subclasses live in the provider's package; the job machinery calls them generically.
    """

    key: ClassVar[str]  # "catalog": unique within the provider, used in URLs
    label: ClassVar[str]  # "Sync Catalog"
    description: ClassVar[str] = ""
    # Whether staff and commands start it; False for work only notifications ask for (orders
    # changed by id), which the drawer and `integrations_sync` do not offer.
    manual: ClassVar[bool] = True
    # Whether its jobs are listed in the drawer's recent jobs when they succeed (a routine
    # check that found nothing is not news; a failure always is).
    listed: ClassVar[bool] = True
    # The drawer section for this action, which renders its form ("square/sales.html", from
    # the provider package's own templates/); "" for a plain button.
    template: ClassVar[str] = ""
    # The completeness calendar (a sales action's ledger of business days) and one day's
    # figures, from the provider package's templates/; "" for actions keeping no ledger.
    ledger_template: ClassVar[str] = ""
    ledger_day_template: ClassVar[str] = ""
    # Whether it reads a date range (`start`, `end`), as `integrations_sync --start/--end` give.
    takes_dates: ClassVar[bool] = False
    # Reads what changed since its last run: a job already running may have read before the
    # change that prompts a new request, so only a job not started yet can answer for it (the
    # request waits behind the running one, and later ones join it).
    incremental: ClassVar[bool] = False
    # When it runs without a click (providers/schedules.py); None: only when asked.
    schedule: ClassVar[Cadence | None] = None
    # The provider's notification types that keep this action's data current (the drawer
    # says per data type whether they are coming, and when the last one came).
    notifications: ClassVar[tuple[str, ...]] = ()
    # How the card and drawer say how current its data is, before the age: "Catalog updated"
    # ("... 5 minutes ago"). "": the action keeps nothing staff read as current data.
    freshness_words: ClassVar[str] = ""
    # The type of its pages' checkpoints: a subclass of the module's `Checkpoint`.
    Checkpoint: ClassVar[type[msgspec.Struct]] = Checkpoint

    def kind(self, provider_key: str) -> str:
        return f"{provider_key}.{self.key}"

    def validate(self, data: Mapping[str, str], *, settings: dict, now: datetime) -> dict:
        """Turn submitted form data into JSON params, or raise InvalidParams."""
        return {}

    def overlaps(self, a: dict, b: dict) -> bool:
        """Whether the work of `a` covers request `b` (then the active job is returned)."""
        return True

    def describe_request(self, params: dict) -> str:
        """What a notification-made job covers, for its origin once requests merge into it
        ("12 orders changed"); "" keeps the first request's words."""
        return ""

    def merge(self, pending: dict, new: dict) -> dict | None:
        """One request doing the work of both, for a job that has not started yet; None when
        they cannot be one job (then the new request waits as a job of its own)."""
        return None

    # What one chunk of `plan()` is, in the parent's progress ("14 of 24 months").
    chunk_unit: ClassVar[str] = "chunks"

    def plan(self, params: dict, *, settings: dict, now: datetime) -> list[dict]:
        """Split into chunks that run as parallel child jobs; one chunk means no children."""
        return [params]

    def pages(self, client, request: SyncRequest) -> Iterator[Page]:
        """The job's pages from `request.checkpoint` on. Raise CursorExpired when the provider
        refuses `request.cursor`: the engine then runs the job again without it."""
        raise NotImplementedError

    def summary(self, tally: Tally) -> str:
        """The finishing toast, e.g. "Catalog synced: 312 items, 14 categories"."""
        return f"{self.label} finished"

    def estimate(
        self, params: dict, *, settings: dict, now: datetime, orders_per_day: Mapping
    ) -> Estimate | None:
        """How big a job of these params is, shown for staff to confirm before it starts
        (`orders_per_day`: {location id: recent average}); None starts it without asking."""
        return None

    def days_covered(self, params: dict, checkpoint, *, settings: dict, now: datetime) -> list:
        """The completeness ledger's days a job reads (records like the ones its last page
        carries), so a failed job can mark them; [] for actions that read no sales days."""
        return []


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

    # The provider's own stylesheet for its drawer sections ("google/google.css", in the
    # package's static/), loaded by the Integrations page; "" for none.
    stylesheet: ClassVar[str] = ""

    @property
    def logo(self) -> str:
        return f"providers/{self.key}.svg"

    # --- OAuth
    def endpoints(self) -> OAuthEndpoints:
        raise NotImplementedError

    def authorization_params(self) -> dict[str, str]:
        """Extra query parameters for the consent screen (e.g. Google's access_type)."""
        return {}

    # The OAuth client class; a provider whose token calls depart from RFC 6749 subclasses it.
    oauth_class: ClassVar[type[OAuthClient]] = OAuthClient

    def oauth(self) -> OAuthClient:
        endpoints = self.endpoints()
        return self.oauth_class(
            provider=self.key,
            client_id=self.credentials.client_id,
            client_secret=self.credentials.client_secret,
            authorize_url=endpoints.authorize_url,
            token_url=endpoints.token_url,
            revoke_url=endpoints.revoke_url,
        )

    # --- Using a token
    def identity(self, access_token: str) -> Identity:
        raise NotImplementedError

    def health(self, access_token: str) -> Health:
        """A lightweight call proving the token works; raises Unauthorized when it does not."""
        raise NotImplementedError

    def runs_unattended(self, action: Action) -> bool:
        """Whether this deployment can run the action on its schedule (it may need settings
        staff cannot give, like an app token)."""
        return True

    # --- Webhooks (providers that send none leave these be)
    sends_notifications: ClassVar[bool] = False

    def webhook_signature_valid(
        self, headers: Mapping[str, str], body: bytes, *, url: str, keys
    ) -> bool:
        """Whether `body` was signed by the provider for `url` with one of `keys` (checked on
        the raw bytes, before any parsing)."""
        return False

    def read_notification(self, body: bytes) -> Notification:
        """The event in a verified body, and the work it asks for; InvalidNotification if it
        is not one."""
        raise InvalidNotification("This provider sends no notifications.")

    # --- Push channels: notifications on channels Sous opens per connection, each carrying
    # a token Sous chose (Drive), instead of one app-wide signed subscription (Square).
    push_channels: ClassVar[bool] = False

    def wants_push(self, settings: dict) -> bool:
        """Whether a connection with these settings has anything to watch."""
        return False

    def open_channel(
        self, access_token: str, *, channel_id: str, address: str, token: str
    ) -> PushChannel:
        raise NotImplementedError

    def close_channel(self, access_token: str, channel: PushChannel) -> None:
        """Stop it (already gone at the provider is fine)."""
        raise NotImplementedError

    def read_push(self, headers: Mapping[str, str]) -> Push:
        """InvalidNotification when the headers are not a notification of this provider."""
        raise InvalidNotification("This provider has no push channels.")

    def action(self, key: str) -> Action | None:
        return next((action for action in self.actions if action.key == key), None)

    def sync_client(self, access_token: str):
        """The API client a job's pages are fetched with (patient retries, long timeouts)."""
        raise NotImplementedError

    # --- Staff choices kept on the connection (locations, folders, ...)
    lookups: ClassVar[tuple[str, ...]] = ()  # names served to the drawer (<key>/<name>.html)
    # Those whose data rarely changes (locations, folder paths): fetched once per connection
    # and kept on it, then refreshed by the syncs and notifications that read the same data
    # (their pages carry a `LookupData` record) and by the drawer's Refresh. Each is split in
    # two: `fetch_lookup()` asks the provider, `show_lookup()` presents what was kept. The
    # others (browsing folders) are served live by `lookup()`.
    cached_lookups: ClassVar[tuple[str, ...]] = ()

    def lookup(
        self, name: str, access_token: str, params: Mapping[str, str], *, account_id: str
    ) -> dict:
        """Data for a live lookup's template (<key>/<name>.html, in the package's templates/).

        Choices it signs are signed for `account_id`, which clean_settings checks."""
        raise KeyError(name)

    def fetch_lookup(self, name: str, access_token: str, *, settings: dict) -> Any:
        """A cached lookup's data from the provider, as plain JSON: what the provider says,
        nothing derived from the time or signed (it may be shown for days)."""
        raise KeyError(name)

    def lookup_covers(self, name: str, data: Any, *, settings: dict) -> bool:
        """Whether kept `data` answers for these settings (a folder chosen since it was
        fetched is not in it: then it is fetched again)."""
        return True

    def show_lookup(
        self,
        name: str,
        data: Any,
        params: Mapping[str, str],
        *,
        account_id: str,
        now: datetime,
    ) -> dict:
        """A cached lookup's template data from kept `data` and the request's `params` (the
        saved choices), computed at `now`. No network. Choices it signs are signed for
        `account_id`, as `lookup()`'s are."""
        raise KeyError(name)

    def clean_settings(self, data: Mapping[str, str], current: dict, *, account_id: str) -> dict:
        """Merge submitted choices into the current settings, or raise InvalidParams.

        `account_id` is the connected account's (IntegrationConfig.external_account_id): a
        choice made for another account is refused."""
        raise InvalidParams("This integration has no settings.")
