"""The rows of a run's results, attempts and attachments, in the drivers' own value forms,
generated while ``bulk.BulkWriter.insert`` takes them a batch at a time."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Sequence
from typing import Any

from playdeck.ingest.bulk import BulkWriter
from playdeck.ingest.parsers.reading import MAX_ERROR_CHARS
from playdeck.ingest.records import AttachmentRecord, TestRecord
from playdeck.kit.text import clean_text, storable_text
from playdeck.models.attempt import MAX_OUTPUT_CHARS
from playdeck.outcomes import Outcome

# Most text fields are empty: ``None`` and empty lists skip the cleaning and the JSON encoder.
_EMPTY_JSON_LIST = "[]"
_EMPTY_JSON_OBJECT = "{}"
_RANKS = {outcome: outcome.rank for outcome in Outcome}


class Rows:
    """The rows of a run's results, attempts and attachments, generated as they are inserted
    (``BulkWriter.insert`` takes them a batch at a time), in the drivers' own value forms.

    Text is cleaned again here whatever the parser did (a record may come from any parser);
    only values that are there are passed to ``clean_text`` and the JSON encoder. Every text
    cell is checked storable here (``storable_text``; JSON by ``dumps_storable``), which is why
    ``BulkWriter.insert`` spares the engine's walk over every cell of every row; the other
    cells are numbers, enum values and formatted timestamps. Enum members go in as plain
    ``str`` (their value): the SQLite driver tries to adapt any ``str`` subclass first, two
    failed attribute look-ups (each formatting an error message) per cell.
    """

    def __init__(self, bulk: BulkWriter, run_id: int, *, created_at: Any) -> None:
        self._bulk = bulk
        self._run_id = run_id
        self._created_at = created_at
        self.attachments: list[tuple[Any, ...]] = []  # filled by ``attempts``

    def _json(self, value: Any, empty: str) -> Any:
        return self._bulk.adapt_json(value) if value else empty

    def results(
        self,
        tests: list[TestRecord],
        test_ids: list[int],
        result_ids: Sequence[int],
        project_id: int,
        started_at: Any,
        branch: str | None,
    ) -> Iterator[tuple[Any, ...]]:
        for t, test_id, result_id in zip(tests, test_ids, result_ids, strict=True):
            yield (
                result_id,
                self._run_id,
                test_id,
                project_id,
                started_at,
                branch,
                str(t.outcome),
                _RANKS[t.outcome],
                None if t.expected_status is None else str(t.expected_status),
                max(0, int(t.duration_ms)),
                max(0, len(t.attempts) - 1),
                _clean(t.error_message, MAX_ERROR_CHARS),
                _clean(t.error_stack, MAX_ERROR_CHARS),
                None if t.location is None else storable_text(t.location),
                self._json(t.tags, _EMPTY_JSON_LIST),
                self._json(t.annotations, _EMPTY_JSON_LIST),
            )

    def attempts(
        self,
        tests: list[TestRecord],
        result_ids: Sequence[int],
        attempt_ids: Sequence[int],
        stored_files: Iterator[tuple[str, int] | None],
    ) -> Iterator[tuple[Any, ...]]:
        """Attempt rows; each attempt's stored attachments go to ``self.attachments``."""
        ids = iter(attempt_ids)
        for t, result_id in zip(tests, result_ids, strict=True):
            for a in t.attempts:
                attempt_id = next(ids)
                yield (
                    attempt_id,
                    result_id,
                    a.retry,
                    str(a.status),
                    None if a.duration_ms is None else max(0, int(a.duration_ms)),
                    self._bulk.adapt_datetime(a.started_at),
                    _clean(a.error_message, MAX_ERROR_CHARS),
                    _clean(a.error_stack, MAX_ERROR_CHARS),
                    _clean(a.stdout, MAX_OUTPUT_CHARS),
                    _clean(a.stderr, MAX_OUTPUT_CHARS),
                    self._json(a.steps, _EMPTY_JSON_LIST),
                    self._json(a.extra, _EMPTY_JSON_OBJECT),
                )
                for attachment in a.attachments:
                    stored = next(stored_files)
                    if stored is not None:
                        self.attachments.append(self._attachment(attempt_id, attachment, stored))

    def _attachment(
        self, attempt_id: int, attachment: AttachmentRecord, stored: tuple[str, int]
    ) -> tuple[Any, ...]:
        sha, size = stored
        return (
            attempt_id,
            self._run_id,
            storable_text(attachment.name[:500]) or "attachment",
            _content_type(attachment),
            size,
            sha,
            self._created_at,
        )


def _clean(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    cleaned = clean_text(text, limit=limit)
    # No NUL left; a lone surrogate may be (the check is on the text as stored, once cut).
    return cleaned if cleaned.isascii() else storable_text(cleaned)


def _content_type(attachment: AttachmentRecord) -> str:
    if attachment.content_type:
        return storable_text(attachment.content_type[:200])
    guessed, _ = mimetypes.guess_type(attachment.path or attachment.name)
    return guessed or "application/octet-stream"
