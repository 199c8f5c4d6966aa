"""RFC 3339 timestamps the way Square writes them, and parsing of the ones clients send.

Internally every instant is an int of milliseconds since the epoch (UTC): cheap to compare,
sort and put in cursors.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_ms(ms: int) -> str:
    """`2024-05-01T12:34:56.789Z`: Square's format for object timestamps (README §6, §7)."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def iso_seconds(seconds: float) -> str:
    """`2025-04-03T18:31:06Z`: the format of OAuth `expires_at` (README §4.2 example)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(seconds)))


def parse_rfc3339_us(text: str) -> int:
    """Microseconds since the epoch; raises ValueError for anything but a zoned RFC 3339 time."""
    if not isinstance(text, str) or "T" not in text.upper():
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    cleaned = _FRACTION.sub(r"\1", text.strip().replace("z", "Z"))
    value = datetime.fromisoformat(cleaned)
    if value.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text!r}")
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_rfc3339_ms(text: str) -> int:
    return parse_rfc3339_us(text) // 1000
