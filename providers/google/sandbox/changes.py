"""The Drive changes feed: one log per account, oldest first (README §2.3).

Drive's feed is account-wide and lists each file once, at the position of its latest change:
a file that changes again moves to the end. Page tokens are positions in one global sequence
(numeric strings, as Drive's are), so a start token taken before any change stays valid and
sees every later change.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ChangeEntry:
    seq: int
    file_id: str
    time: datetime
    removed: bool  # deleted, or no longer visible to this account
    drive_id: str | None  # the shared drive the file is (or was last) in


class ChangeLog:
    def __init__(self, start: int) -> None:
        self.last = start  # the sequence number of the newest change
        self._logs: dict[str, OrderedDict[str, ChangeEntry]] = {}
        # Called with the accounts whose feed a mutation changed (push notifications).
        self.on_change: Callable[[set[str]], None] = lambda accounts: None

    def start_token(self) -> int:
        return self.last + 1

    def record(self, changes: list[tuple[str, str, bool, str | None]], time: datetime) -> None:
        """Record (account sub, file id, removed, drive id) tuples as one mutation's changes."""
        for account, file_id, removed, drive_id in changes:
            self.last += 1
            log = self._logs.setdefault(account, OrderedDict())
            log.pop(file_id, None)
            log[file_id] = ChangeEntry(self.last, file_id, time, removed, drive_id)
        if changes:
            self.on_change({account for account, *_ in changes})

    def saved(self) -> dict:
        """Every account's feed, for keeping across a restart (durable.py)."""
        return {
            "last": self.last,
            "logs": {
                account: [
                    [e.seq, e.file_id, e.time.isoformat(), e.removed, e.drive_id]
                    for e in log.values()
                ]
                for account, log in self._logs.items()
            },
        }

    def apply_saved(self, saved: dict) -> None:
        self.last = int(saved["last"])
        self._logs = {
            account: OrderedDict(
                (file_id, ChangeEntry(seq, file_id, datetime.fromisoformat(at), removed, drive))
                for seq, file_id, at, removed, drive in entries
            )
            for account, entries in saved["logs"].items()
        }

    def since(self, account: str, token: int) -> list[ChangeEntry]:
        """Every entry at or after `token`, oldest first."""
        log = self._logs.get(account)
        if not log:
            return []
        return [entry for entry in log.values() if entry.seq >= token]
