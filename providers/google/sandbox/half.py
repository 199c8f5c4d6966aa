"""The Google half of the provider sandbox: the `SandboxHalf` the composing app mounts."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from providers.sandbox.core import SandboxContext

from . import durable
from .config import GoogleConfig
from .control import ControlApi
from .drive import DriveApi
from .errors import fault
from .oauth import OAuthApi
from .state import GoogleState


class GoogleHalf:
    """Google's hosts (accounts.google.com, oauth2.googleapis.com, www.googleapis.com) under
    one prefix, `/google`, plus test hooks under `/_sandbox/google`."""

    key = "google"

    def __init__(self, ctx: SandboxContext, config: GoogleConfig) -> None:
        self.ctx = ctx
        self.config = config
        self.state = GoogleState(config, ctx.seed, ctx.knobs)
        count = ctx.counters.incr
        self.oauth = OAuthApi(self.state, count, ctx.half_url(self.key))
        self.drive = DriveApi(self.state, count, ctx.half_url(self.key))
        self.control = ControlApi(self.state)
        self.routes: list[BaseRoute] = [*self.oauth.routes(), *self.drive.routes()]
        self.control_routes: list[BaseRoute] = self.control.routes()

    def reset(self) -> None:
        self.state.reset()

    def issued_tokens(self) -> list[str]:
        with self.state.lock:
            return list(self.state.auth.issued)

    def expire_all_tokens(self) -> None:
        with self.state.lock:
            self.state.auth.expire_all()

    def fault_response(self, status: int, retry_after: int) -> Response:
        return fault(status, retry_after)

    def changes_state(self, method: str, path: str, control: bool) -> bool:
        return durable.changes_state(method, path, control)

    def snapshot(self) -> dict:
        return durable.snapshot(self.state)

    def restore(self, saved: dict) -> None:
        durable.restore(self.state, saved)
