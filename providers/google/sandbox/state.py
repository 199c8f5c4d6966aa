"""Everything the Google half remembers, behind one lock, and how it returns to the seed.

uvicorn serves from its own thread while tests poke the half in-process, so every read and
write of the stores happens under `GoogleState.lock`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from providers.sandbox.core import Knobs
from providers.sandbox.delivery import Dispatcher

from .auth_store import AuthStore, Client
from .config import GoogleConfig
from .drive_store import DriveStore
from .push import Channels, GoogleCourier, Notice
from .tree import build_world

EXPORT_LIMIT = 10 * 1024 * 1024  # "exported content is limited to 10 MB" (README §2.2)


class Clock:
    """Wall-clock time plus an offset tests can advance (code and token expiry without sleeps)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def ms(self) -> int:
        return int(self.time() * 1000)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)


@dataclass
class GoogleKnobs:
    """Google-only realism switches (`/_sandbox/google/knobs`)."""

    # "Partial or empty result pages are possible even before the end" (README §2.1): when
    # on, files.list sometimes returns short or empty pages that still carry nextPageToken.
    partial_pages: bool = False
    export_limit_bytes: int = EXPORT_LIMIT

    def update(self, values: dict) -> None:
        for name, value in values.items():
            if name not in self.__dataclass_fields__:
                raise ValueError(f"unknown knob {name!r}")
            setattr(self, name, type(getattr(self, name))(value))

    def as_dict(self) -> dict:
        return asdict(self)


class GoogleState:
    def __init__(self, config: GoogleConfig, seed: int, knobs: Knobs) -> None:
        self.config = config
        self.seed = seed
        self.lock = threading.RLock()
        self.clock = Clock()
        self.channels = Channels(seed)
        courier = GoogleCourier(self.channels, self.clock.ms, self.lock)
        self.push = Dispatcher(knobs, courier, seed)
        # Redirect URIs registered at run time survive resets: they describe the product
        # under test (which may run on a random port for the whole session), not Drive data.
        self.extra_redirect_uris: list[str] = []
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.clock.offset = 0.0
            self.knobs = GoogleKnobs()
            world = build_world(self.seed, self.config.data)
            self.drive = DriveStore(world, self.seed, self.clock.now)
            self.drive.changes.on_change = self.changed
            self.channels.reset()
            self.push.reset()
            client = Client(
                client_id=self.config.client_id,
                secret=self.config.client_secret,
                name="Sous (local)",
                redirect_uris=[*self.config.redirect_uris, *self.extra_redirect_uris],
            )
            self.auth = AuthStore(
                clients={client.client_id: client},
                time=self.clock.time,
                access_ttl=self.config.access_token_ttl,
                code_ttl=self.config.code_ttl,
            )

    def changed(self, accounts: set[str]) -> None:
        for notice in self.channels.notices(accounts, self.clock.ms()):
            self.send(notice)

    def send(self, notice: Notice) -> None:
        self.push.enqueue(notice, notice.channel_id)

    def register_redirect_uri(self, uri: str, client_id: str | None = None) -> list[str]:
        with self.lock:
            client = self.auth.client(client_id or self.config.client_id)
            if client is None:
                raise KeyError(client_id)
            if uri not in client.redirect_uris:
                client.redirect_uris.append(uri)
            if client.client_id == self.config.client_id and uri not in self.extra_redirect_uris:
                self.extra_redirect_uris.append(uri)
            return list(client.redirect_uris)

    def unregister_redirect_uri(self, uri: str) -> list[str]:
        with self.lock:
            client = self.auth.clients[self.config.client_id]
            if uri in client.redirect_uris:
                client.redirect_uris.remove(uri)
            if uri in self.extra_redirect_uris:
                self.extra_redirect_uris.remove(uri)
            return list(client.redirect_uris)
