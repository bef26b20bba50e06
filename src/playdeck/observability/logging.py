"""Log output for ``playdeck serve``: text by default, one JSON object per line on request.

Playdeck's modules log with the standard ``logging`` module under ``playdeck.*`` names; uvicorn
and Alembic propagate to the same root handler, so one format covers every line. Each line
carries the request id of the request it belongs to (``-`` outside requests), the lines an ingest
worker process writes for a request's report included (``ingest.worker``).
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from playdeck.observability.request_id import current_request_id

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
# uvicorn's level below DEBUG (``PLAYDECK_LOG_LEVEL=trace``), named here too: an ingest worker
# process does not import uvicorn, and ``logging`` refuses a level it has no name for.
TRACE = 5
# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is data.
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "color_message",
    "taskName",
}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(*, level: str, log_format: str) -> None:
    """Send every logger's records, in ``log_format``, to stderr at ``level`` and above: in the
    serving process and in each ingest worker process, which inherits its stderr."""
    logging.addLevelName(TRACE, "TRACE")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # playdeck.access logs each request with its id and route; uvicorn's line would repeat it.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
