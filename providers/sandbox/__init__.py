"""The provider sandbox: one local process emulating the parts of Square and Google we use.

`python -m providers.sandbox` serves it. Each provider's half lives beside its adapter
(`providers/<key>/sandbox/`); this package only composes the halves, applies the realism knobs
(latency, injected 429/5xx), serves the control API under `/_sandbox/` and, with `--state-dir`,
keeps the halves' state across restarts (persistence.py).
"""
