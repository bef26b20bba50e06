"""The documented bounds of a report's names (docs/security.md, "Input limits"), checked before
anything is stored."""

from __future__ import annotations

from playdeck.errors import InvalidInput
from playdeck.ingest.records import RunRecord

# Bounds of a test's identity (docs/security.md, "Input limits"): refused, never cut, because a
# cut title would merge two tests into one.
MAX_TITLE_CHARS = 4096
MAX_TITLE_DEPTH = 64
MAX_FILE_CHARS = 4096
MAX_BROWSER_PROJECT_CHARS = 200
MAX_PROJECT_NAME_CHARS = 200
MAX_ATTACHMENT_NAME_CHARS = 1024
# A report's label (``report_label_<type>``): the column's size, the same on every database.
MAX_REPORT_LABEL_CHARS = 200


def _too_long(what: str, limit: int) -> InvalidInput:
    return InvalidInput(f"{what} is longer than {limit} characters", code="field_too_long")


def check_bounds(record: RunRecord) -> None:
    """422 for a report whose names are beyond the documented limits."""
    if len(record.project_name or "") > MAX_PROJECT_NAME_CHARS:
        raise _too_long("projectName", MAX_PROJECT_NAME_CHARS)
    for test in record.tests:
        if len(test.title_path) > MAX_TITLE_DEPTH:
            raise InvalidInput(
                f"A test is nested more than {MAX_TITLE_DEPTH} describe blocks deep",
                code="field_too_long",
            )
        if any(len(part) > MAX_TITLE_CHARS for part in test.title_path):
            raise _too_long("A test title", MAX_TITLE_CHARS)
        if len(test.file) > MAX_FILE_CHARS:
            raise _too_long("A test file path", MAX_FILE_CHARS)
        if len(test.browser_project) > MAX_BROWSER_PROJECT_CHARS:
            raise _too_long("A browser project name", MAX_BROWSER_PROJECT_CHARS)
        for attempt in test.attempts:
            for attachment in attempt.attachments:
                if len(attachment.name) > MAX_ATTACHMENT_NAME_CHARS:
                    raise _too_long("An attachment name", MAX_ATTACHMENT_NAME_CHARS)
    for report in record.reports:
        if len(report.label or "") > MAX_REPORT_LABEL_CHARS:
            raise _too_long("A report label", MAX_REPORT_LABEL_CHARS)
