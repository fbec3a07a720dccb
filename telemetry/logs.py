"""Log lines as plain text (development) or one JSON object a line
(RAS_LOG_FORMAT=json), each carrying the id of the request it was written in."""

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# The request being answered, set by the access middleware for the request's
# task (and the tasks it starts): every line logged meanwhile carries it.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ras_request_id", default=None
)

# Fields an access line adds (logger.info(..., extra={ACCESS: {...}})).
ACCESS = "ras_access"

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

# Characters Unicode counts as line breaks, escaped in JSON lines.
_LINE_BREAKS = str.maketrans(
    {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}
)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class TextFormatter(logging.Formatter):
    """The development format, with ` [request <id>]` inside a request."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (RFC 3339, UTC), level, logger, message,
    request id, the access fields of an access line, and the traceback of a
    logged exception. Values are JSON-escaped, so no input can split a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            # Which web process (serve --workers N) wrote it.
            "pid": record.process,
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["requestId"] = request_id
        access = getattr(record, ACCESS, None)
        if isinstance(access, dict):
            entry.update(access)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        line = json.dumps(entry, ensure_ascii=False, default=str)
        # JSON allows these raw, but some readers split lines at them.
        return line.translate(_LINE_BREAKS)


def configure(level: str, log_format: str) -> None:
    """The root logger writing to standard error in ``log_format`` ("text" or
    "json"), replacing any handler set before."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
