"""Keep the pipe full: fetch the next page while the current one is being saved.

`ahead(source)` runs `source` (a generator of pages) in a background thread, at most `depth`
pages ahead of the consumer. Pages reach the consumer in order, and so does an exception
raised by the source (after the pages before it), so a sync still checkpoints each page
before it sees a failure. When the consumer stops early (cancelled, end of its time slice) the
thread stops at its next page; a request already in flight finishes and is dropped.
The producer thread only fetches and parses: it never touches the database.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
POLL_SECONDS = 0.5


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def ahead(source: Iterator[T], depth: int = 1) -> Iterator[T]:
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer as is
            put(_Failure(error))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    # In a copy of this context: its log lines say which job and task they belong to.
    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(produce,), name="sync-prefetch", daemon=True
    )
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
