"""Log lines as operators read them: JSON with the request id and the event's fields."""

from __future__ import annotations

import contextvars
import json
import logging
import sys

from playdeck.observability.logging import JsonFormatter, RequestIdFilter
from playdeck.observability.request_id import set_request_id


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "playdeck.test", logging.ERROR, __file__, 1, "%s happened", ("it",), None
    )
    record.__dict__.update(extra)
    return record


def _in_request(record: logging.LogRecord) -> None:
    set_request_id("req-123")
    RequestIdFilter().filter(record)


def test_json_lines_carry_message_request_id_and_extra_fields() -> None:
    record = _record(route="/api/projects", status=200)
    contextvars.copy_context().run(_in_request, record)  # the id stays in that request
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "it happened"
    assert (entry["level"], entry["logger"], entry["request_id"]) == (
        "error",
        "playdeck.test",
        "req-123",
    )
    assert (entry["route"], entry["status"]) == ("/api/projects", 200)
    assert entry["time"].endswith("+00:00")


def test_json_lines_keep_the_traceback_in_one_field() -> None:
    try:
        raise RuntimeError("kaput")
    except RuntimeError:
        record = _record()
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "RuntimeError: kaput" in json.loads(line)["exception"]


def test_values_json_cannot_hold_are_written_as_text() -> None:
    entry = json.loads(JsonFormatter().format(_record(path=object)))
    assert entry["path"] == str(object)
