"""The Square half of the provider sandbox: what `providers.sandbox.app` composes."""

from __future__ import annotations

from starlette.responses import Response

from providers.sandbox.core import Knobs

from . import durable
from .config import SquareConfig
from .control import SquareControl
from .errors import fault
from .ground_truth import GroundTruth
from .routes import SquareApi
from .state import SquareState
from .timefmt import parse_rfc3339_ms


class SquareHalf:
    key = "square"

    def __init__(self, config: SquareConfig, counters, half_url: str, knobs: Knobs) -> None:
        self.state = SquareState(config, knobs)
        self.routes = SquareApi(self.state, counters).routes()
        self.control_routes = SquareControl(self.state, half_url).routes()

    # --- the SandboxHalf protocol ----------------------------------------------------------------

    def reset(self) -> None:
        self.state.reset()

    def issued_tokens(self) -> list[str]:
        with self.state.lock:
            return list(self.state.oauth.issued)

    def expire_all_tokens(self) -> None:
        with self.state.lock:
            self.state.oauth.expire_all()

    def fault_response(self, status: int, retry_after: int) -> Response:
        return fault(status, retry_after)

    def changes_state(self, method: str, path: str, control: bool) -> bool:
        return durable.changes_state(method, path, control)

    def snapshot(self) -> dict:
        return durable.snapshot(self.state)

    def restore(self, saved: dict) -> None:
        durable.restore(self.state, saved)

    # --- in-process helpers for tests ----------------------------------------------------------

    def ground_truth(
        self,
        location_id: str,
        start: str,
        end: str,
        field: str = "closed_at",
        states: list[str] | None = None,
        with_ids: bool = False,
    ) -> GroundTruth:
        """Count and total of the orders SearchOrders should return for a range (inclusive)."""
        return self.state.ground_truth(
            location_id,
            parse_rfc3339_ms(start),
            parse_rfc3339_ms(end),
            field,
            frozenset(states) if states else None,
            with_ids,
        )

    @property
    def merchants(self):
        return self.state.data.merchants
