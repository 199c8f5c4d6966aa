"""Logging: one JSON object per line in production, readable lines in development.

Every record keeps the `extra` fields its caller passed (job, organisation, connection, event
ids) and gains the fields bound for the work it belongs to: the HTTP request's id (see
`RequestIdMiddleware`), the Celery task's id and name, and whatever `bind()` adds (a job's ids).
Token-shaped values are redacted before any handler sees a record: the code never logs a token,
and this makes sure a mistake does not put one in the log either.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import logging.config
import re
import secrets
from collections.abc import Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only when it is short and plain: it ends up in every log line of the
# request and in the response, so it must not smuggle newlines, markup or a megabyte in.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# The fields bound to the work at hand (request_id; job_id, org_id, config_id in a job's run).
_bound: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "sous_log", default=MappingProxyType({})
)

REDACTED = "[Filtered]"
# Keys whose values are secrets wherever they appear (extra fields, Sentry events).
SECRET_KEY_PATTERN = re.compile(
    r"token|secret|password|passwd|authorization|cookie|api_?key|credential|private_?key",
    re.IGNORECASE,
)
# Values shaped like a credential: an Authorization header's Bearer value; Square's access and
# refresh tokens ("EAAA…", "EQAA…", https://developer.squareup.com/docs/oauth-api/best-practices);
# Google's access tokens ("ya29.…"), refresh tokens ("1//…") and authorization codes ("4/…",
# https://developers.google.com/identity/protocols/oauth2/web-server).
SECRET_VALUE_PATTERN = re.compile(
    r"(?i:bearer)\s+[^\s\"',;]+"
    r"|\bE[AQ]AA[A-Za-z0-9_\-]{16,}"
    r"|\bya29\.[A-Za-z0-9_\-.]+"
    r"|(?<![\w/])1//0[A-Za-z0-9_\-]+"
    r"|(?<![\w/])4/0A[A-Za-z0-9_\-]+"
    # A team invitation's link is a bearer credential too (sous.orgs.urls).
    r"|(?<=/invitations/)[^/\s\"'?#]+"
)

# Attributes every LogRecord has: anything else on a record came from `extra` or a filter.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    return SECRET_VALUE_PATTERN.sub(REDACTED, text)


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD}


# --- Context: what the current request, task or job adds to every record.


def bound() -> Mapping[str, Any]:
    return _bound.get()


@contextlib.contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add `fields` to every record logged inside the block: in this thread or asyncio task,
    and in threads started with a copy of its context (asgiref's sync_to_async, the sync
    prefetch)."""
    token = _bound.set({**_bound.get(), **fields})
    try:
        yield
    finally:
        _bound.reset(token)


def bind_request(request_id: str) -> None:
    """Bind a request's id for the rest of the current context (see RequestIdMiddleware)."""
    _bound.set({**_bound.get(), "request_id": request_id})


def unbind_request() -> None:
    _bound.set(MappingProxyType({k: v for k, v in _bound.get().items() if k != "request_id"}))


def request_id_from(incoming: str | None) -> str:
    if incoming and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return secrets.token_hex(16)


# Celery's task_prerun and task_postrun (sous/celery.py): a task's id and name are bound for its
# run. In the context, not read from Celery's per-thread task stack, so that a thread the task
# starts with a copy of its context (the sync prefetch) logs them too.
_task_tokens: dict[str, contextvars.Token] = {}


def task_started(task_id: str | None = None, task=None, **_) -> None:
    if task_id:
        _task_tokens[task_id] = _bound.set(
            {**_bound.get(), "task_id": task_id, "task_name": getattr(task, "name", None)}
        )


def task_finished(task_id: str | None = None, **_) -> None:
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        _bound.reset(token)


class ContextFilter(logging.Filter):
    """Adds the bound fields (request, task, job) to each record.

    A field the caller passed in `extra` wins over a bound one of the same name."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _bound.get().items():
            if key not in record.__dict__:
                setattr(record, key, value)
        return True


class RedactFilter(logging.Filter):
    """Defence in depth: secret-named extra fields and token-shaped text become [Filtered]."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in extra_fields(record).items():
            setattr(record, key, scrub(key, value))
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed call: logging reports it when it formats the record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def scrub(key: str, value: Any) -> Any:
    """`value` with secrets filtered: whole when `key` names one, token-shaped text otherwise,
    into dicts and lists."""
    if SECRET_KEY_PATTERN.search(key):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: scrub(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub("", item) for item in value]
    return value


# --- Formatters.


class RedactingJsonFormatter(JsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, every extra field, and the
    exception's traceback as one string field."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault(
            "rename_fields", {"levelname": "level", "name": "logger", "exc_info": "exception"}
        )
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("json_default", _json_default)
        super().__init__(*args, **kwargs)

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return redact(super().formatStack(stack_info))


def _json_default(value: Any) -> str:
    # Datetimes (the timestamp, a job's heartbeat_at) as ISO 8601; anything else as str():
    # a log line is never lost to a value JSON cannot encode.
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class PlainFormatter(logging.Formatter):
    """Development: the usual line, then the extra fields as key=value, so ids are in sight."""

    # Celery repeats a task record's message arguments as `data` (for structured logs): the
    # plain line already reads them in the message.
    REPEATED = frozenset({"data"})

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = {k: v for k, v in extra_fields(record).items() if k not in self.REPEATED}
        if not fields:
            return line
        head, newline, rest = line.partition("\n")
        pairs = " ".join(f"{key}={value}" for key, value in sorted(fields.items()))
        return f"{head} [{pairs}]{newline}{rest}"

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))


def configure(logging_settings: dict) -> None:
    """settings.LOGGING_CONFIG: the dictConfig, and Python's warnings logged like the rest (a
    warning printed by itself would be the one line of stderr a log pipeline cannot parse)."""
    logging.config.dictConfig(logging_settings)
    logging.captureWarnings(True)


def config(log_format: str, level: str) -> dict:
    """The LOGGING setting: every record to stderr, in `log_format` ("json" or "plain")."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": ContextFilter},
            "redact": {"()": RedactFilter},
        },
        "formatters": {
            "json": {
                "()": RedactingJsonFormatter,
                "format": "%(levelname)s %(name)s %(message)s",
            },
            "plain": {
                "()": PlainFormatter,
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                # Context first, so that bound fields are redacted too.
                "filters": ["context", "redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }
