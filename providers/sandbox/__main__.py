"""`python -m providers.sandbox`: serve the local Square and Google on loopback."""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from .app import build_app, half_modules
from .core import Knobs, SandboxContext

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m providers.sandbox", description=__doc__)
    parser.add_argument("--host", default=env("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("SANDBOX_PORT", "8765")))
    parser.add_argument("--seed", type=int, default=int(env("SANDBOX_SEED", "42")))
    parser.add_argument("--latency-ms", type=int, default=int(env("SANDBOX_LATENCY_MS", "0")))
    parser.add_argument("--rate-429", type=float, default=float(env("SANDBOX_RATE_429", "0")))
    parser.add_argument("--rate-5xx", type=float, default=float(env("SANDBOX_RATE_5XX", "0")))
    parser.add_argument(
        "--state-dir",
        default=env("SANDBOX_STATE_DIR", ""),
        metavar="DIR",
        help="keep grants, tokens and changes in DIR/state.json across restarts "
        "(env SANDBOX_STATE_DIR; default: in memory only; POST /_sandbox/reset forgets them)",
    )
    for module in half_modules().values():
        module.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.host not in LOOPBACK:
        parser.error("the sandbox serves loopback only (--host 127.0.0.1, ::1 or localhost)")
    return args


def make_context(args: argparse.Namespace, base_url: str) -> SandboxContext:
    ctx = SandboxContext(
        base_url=base_url, seed=args.seed, args=args, state_dir=args.state_dir or None
    )
    ctx.knobs = Knobs(latency_ms=args.latency_ms, rate_429=args.rate_429, rate_5xx=args.rate_5xx)
    ctx.rng.seed(args.seed)
    return ctx


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    base_url = os.environ.get("SANDBOX_PUBLIC_URL", f"http://{args.host}:{args.port}")
    app = build_app(make_context(args, base_url))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
