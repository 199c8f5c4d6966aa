"""Keep the halves' state across restarts: one JSON file under `--state-dir`.

A real provider remembers the grants it gave and the changes made to its data; restarting
`make run` must not turn a working connection into "Re-auth required". Each half says what it
keeps (`snapshot()`, `restore()`: only what differs from the seeded data, which follows from
the seed); this module only orchestrates: load once at start, save before answering a request
that changed something (so a change that was answered survives a SIGKILL), save at shutdown,
and delete the file on `POST /_sandbox/reset`.

Without a state dir none of this runs. With one, a read-only request costs one path check.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path

import orjson
from starlette.concurrency import run_in_threadpool

from .core import IncompatibleState, SandboxHalf

# Bump when any half's snapshot changes shape: an older file then starts fresh with a warning.
FORMAT = 1
FILE_NAME = "state.json"
logger = logging.getLogger("providers.sandbox")


class StateFile:
    def __init__(self, directory: str, seed: int, halves: dict[str, SandboxHalf]) -> None:
        self.path = Path(directory) / FILE_NAME
        self.seed = seed
        self.halves = halves
        self._lock = threading.Lock()  # one snapshot-and-write (or wipe) at a time
        self._written: bytes | None = None  # what the file holds, so an unchanged save is skipped
        self._asked = 0  # saves asked for (one per changing request)
        self._done = 0  # saves asked for that a finished write covers
        self._turn = asyncio.Lock()

    # --- start --------------------------------------------------------------------------------

    def load(self) -> None:
        """Restore every half from the file; whatever is wrong with it, start fresh and say why."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self._fresh(f"no saved state at {self.path} yet")
            return
        except OSError as error:
            self._fresh(f"cannot read {self.path} ({type(error).__name__})")
            return
        try:
            saved = orjson.loads(raw)
            self._check(saved)
            for key, half in self.halves.items():
                if key in saved["halves"]:
                    half.restore(saved["halves"][key])
        except IncompatibleState as error:
            self._reset_halves()
            self._fresh(f"{self.path} does not fit this run: {error}")
            return
        except Exception as error:  # a damaged file must never stop the sandbox from starting
            self._reset_halves()
            self._fresh(f"{self.path} is unreadable ({type(error).__name__})")
            return
        self._written = raw

    def _check(self, saved: object) -> None:
        if not isinstance(saved, dict) or not isinstance(saved.get("halves"), dict):
            raise ValueError("not a saved sandbox state")
        if saved.get("format") != FORMAT:
            raise IncompatibleState(
                f"it has format {saved.get('format')!r}, this sandbox reads format {FORMAT}"
            )
        if saved.get("seed") != self.seed:
            raise IncompatibleState(
                f"it was saved with --seed {saved.get('seed')}, this run has --seed {self.seed}"
            )

    def _reset_halves(self) -> None:
        for half in self.halves.values():
            half.reset()

    def _fresh(self, why: str) -> None:
        logger.warning(
            "%s; starting from the seeded data (the file is rewritten at the next change)", why
        )

    # --- saving -------------------------------------------------------------------------------

    def save(self) -> None:
        """Write every half's snapshot now, atomically; a no-op when nothing changed."""
        with self._lock:
            blob = self._snapshot()
            if blob == self._written:
                return
            self._write(blob)
            self._written = blob

    def _snapshot(self) -> bytes:
        halves = {key: half.snapshot() for key, half in self.halves.items()}
        return orjson.dumps({"format": FORMAT, "seed": self.seed, "halves": halves})

    def _write(self, blob: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
        # The emulated tokens are in it: readable by this user only, as a provider's own store.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with os.fdopen(os.open(temporary, flags, 0o600), "wb") as file:
            file.write(blob)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)
        try:  # the rename itself survives a power cut only once the directory is synced
            directory = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    async def commit(self) -> None:
        """Save before a changing request is answered. Requests arriving while a write is under
        way share the next write: it starts after their change, so it holds it."""
        self._asked += 1
        ticket = self._asked
        async with self._turn:
            if self._done >= ticket:
                return
            covers = self._asked
            try:
                await run_in_threadpool(self.save)
            except Exception:
                logger.exception("could not save the sandbox state to %s", self.path)
                return
            self._done = covers

    def wipe(self) -> None:
        """Forget the saved state (after the halves were reset). Until something changes
        again, there is nothing to write, at shutdown either."""
        with self._lock:
            self.path.unlink(missing_ok=True)
            self._written = self._snapshot()


class SaveAfterChange:
    """ASGI middleware: a request that may have changed state is answered once it is on disk."""

    def __init__(self, app, state: StateFile, control_prefix: str) -> None:
        self.app = app
        self.state = state
        self.halves = state.halves
        self.control = control_prefix + "/"

    def changes_state(self, method: str, path: str) -> bool:
        control = path.startswith(self.control)
        key, _, rest = path[len(self.control) if control else 1 :].partition("/")
        half = self.halves.get(key)
        if half is not None:
            return half.changes_state(method, "/" + rest, control)
        # The app's own control calls: only expiring every token changes the halves (a reset
        # wipes the file itself; knobs and counters are not kept).
        return control and key == "tokens" and rest == "expire"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.changes_state(scope["method"], scope["path"]):
            return await self.app(scope, receive, send)

        async def send_after_saving(message) -> None:
            if message["type"] == "http.response.start":
                await self.state.commit()
            await send(message)

        return await self.app(scope, receive, send_after_saving)
