"""Compose the halves into one ASGI app, with knobs and the control API."""

from __future__ import annotations

import asyncio
import importlib
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from .core import SandboxContext, SandboxHalf
from .persistence import SaveAfterChange, StateFile

# key -> module exposing add_arguments(parser) and build(ctx) -> SandboxHalf
HALVES = {
    "square": "providers.square.sandbox",
    "google": "providers.google.sandbox",
}

CONTROL_PREFIX = "/_sandbox"


def half_modules():
    return {key: importlib.import_module(path) for key, path in HALVES.items()}


class FaultMiddleware:
    """Latency and injected failures on emulated requests; the control API is never touched."""

    def __init__(self, app, ctx: SandboxContext, halves: dict[str, SandboxHalf]) -> None:
        self.app = app
        self.ctx = ctx
        self.halves = halves

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            return await self.app(scope, receive, send)
        key = scope["path"].strip("/").split("/", 1)[0]
        half = self.halves.get(key)
        if half is None:
            return await self.app(scope, receive, send)
        knobs = self.ctx.knobs
        self.ctx.counters.incr(f"{key}.requests")
        if knobs.latency_ms:
            await asyncio.sleep(knobs.latency_ms / 1000)
        roll = self.ctx.rng.random()
        status = None
        if roll < knobs.rate_429:
            status = 429
        elif roll < knobs.rate_429 + knobs.rate_5xx:
            status = self.ctx.rng.choice((500, 503))
        if status is None:
            return await self.app(scope, receive, send)
        self.ctx.counters.incr(f"{key}.injected.{status}")
        response = half.fault_response(status, knobs.retry_after)
        return await response(scope, receive, send)


def _saving_at_shutdown(saved: StateFile | None):
    @asynccontextmanager
    async def lifespan(app):
        yield
        if saved is not None:  # what changed outside a request (push message numbers, ...)
            saved.save()

    return lifespan


def build_app(ctx: SandboxContext) -> Starlette:
    halves: dict[str, SandboxHalf] = {
        key: module.build(ctx) for key, module in half_modules().items()
    }
    saved = StateFile(ctx.state_dir, ctx.seed, halves) if ctx.state_dir else None
    if saved is not None:
        saved.load()

    async def knobs(request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                ctx.knobs.update(await request.json())
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(ctx.knobs.as_dict())

    async def counters(request: Request) -> JSONResponse:
        return JSONResponse(ctx.counters.snapshot())

    async def tokens(request: Request) -> JSONResponse:
        return JSONResponse({key: half.issued_tokens() for key, half in halves.items()})

    async def expire_tokens(request: Request) -> JSONResponse:
        for half in halves.values():
            half.expire_all_tokens()
        return JSONResponse({"expired": True})

    async def reset(request: Request) -> JSONResponse:
        for half in halves.values():
            half.reset()
        ctx.counters.reset()
        ctx.knobs.update(type(ctx.knobs)().as_dict())
        ctx.rng.seed(ctx.seed)
        if saved is not None:
            saved.wipe()
        return JSONResponse({"reset": True})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "halves": sorted(halves)})

    routes = [
        Route(f"{CONTROL_PREFIX}/health", health),
        Route(f"{CONTROL_PREFIX}/knobs", knobs, methods=["GET", "POST"]),
        Route(f"{CONTROL_PREFIX}/counters", counters),
        Route(f"{CONTROL_PREFIX}/tokens", tokens),
        Route(f"{CONTROL_PREFIX}/tokens/expire", expire_tokens, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/reset", reset, methods=["POST"]),
    ]
    for key, half in halves.items():
        routes.append(Mount(f"{CONTROL_PREFIX}/{key}", routes=half.control_routes))
        routes.append(Mount(f"/{key}", routes=half.routes))
    app = Starlette(routes=routes, lifespan=_saving_at_shutdown(saved))
    if saved is not None:  # inside the fault injection: an injected 429 changed nothing
        app.add_middleware(SaveAfterChange, state=saved, control_prefix=CONTROL_PREFIX)
    app.add_middleware(FaultMiddleware, ctx=ctx, halves=halves)
    app.state.halves = halves
    app.state.ctx = ctx
    return app
