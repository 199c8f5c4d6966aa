"""The local Square: OAuth consent, tokens and the data APIs Sous reads, over real HTTP.

Served by `python -m providers.sandbox` at `/square` (point the SDK at `base_url=<sandbox>/square`);
test hooks live at `/_sandbox/square` (see `control.py`). The contract is
`shared/reference/square/README.md`; section numbers in comments refer to it.

    add_arguments(parser)  the `--square-*` flags, each defaulting from `SANDBOX_SQUARE_*`
    build(ctx)             the `SandboxHalf` the composing app mounts
"""

from __future__ import annotations

from providers.sandbox.core import SandboxContext

from .config import add_arguments, config_from
from .half import SquareHalf

__all__ = ["SquareHalf", "add_arguments", "build"]


def build(ctx: SandboxContext) -> SquareHalf:
    return SquareHalf(
        config_from(ctx.args, ctx.seed), ctx.counters, ctx.half_url("square"), ctx.knobs
    )
