"""A run's attachment and report files, stored content-addressed before its transaction begins
(``storage.gc.discard`` removes them again if the run is not committed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from playdeck.errors import BadRequest, InvalidInput
from playdeck.ingest.records import AttachmentRecord, ReportFormatError, RunRecord
from playdeck.ingest.sources import FileSource
from playdeck.storage.base import BlobStore, BlobTooLarge, StoredBlob


@dataclass(slots=True)
class StagedFiles:
    """The files of a run, stored before its transaction begins.

    ``attachments`` follows the record's order (tests, attempts, attachments); ``None`` for an
    attachment without a body or a file. ``blobs`` is everything stored or claimed, for
    ``storage.gc.discard`` if the run is not committed.
    """

    blobs: list[StoredBlob] = field(default_factory=list)
    attachments: list[tuple[str, int] | None] = field(default_factory=list)
    reports: list[list[tuple[str, int]]] = field(default_factory=list)
    missing: int = 0


def _put(store: BlobStore, staged: StagedFiles, blob: StoredBlob) -> tuple[str, int]:
    staged.blobs.append(blob)
    return blob.sha256, blob.size


def _stage_attachment(
    store: BlobStore,
    staged: StagedFiles,
    attachment: AttachmentRecord,
    source: FileSource,
    max_bytes: int,
    consume: bool,
) -> tuple[str, int] | None:
    if attachment.body is not None:
        stored = _put(store, staged, store.put_bytes(attachment.body))
        if consume:
            # The file holds it now: the bytes need not stay alive until the commit (inline
            # attachments are about a fifth of a Playwright report's records).
            attachment.body = None
        return stored
    if attachment.path is None:
        return None
    handle = source.open(attachment.path)
    if handle is None:
        staged.missing += 1
        return None
    with handle:
        try:
            blob = store.put_stream(handle, max_bytes=max_bytes)
        except BlobTooLarge as exc:
            raise InvalidInput(
                f"Attachment {attachment.name!r} is larger than the upload limit",
                code="attachment_too_large",
            ) from exc
        except ReportFormatError as exc:
            raise BadRequest(f"Unsafe or invalid archive: {exc}", code="invalid_archive") from exc
    return _put(store, staged, blob)


def stage_files(
    store: BlobStore,
    record: RunRecord,
    *,
    source: FileSource,
    max_bytes: int,
    into: StagedFiles,
    consume: bool = False,
) -> None:
    """Store every attachment and report file of ``record`` (no database involved). With
    ``consume`` (a record parsed for this ingest alone), the inline attachment bodies are
    dropped from ``record`` once stored (see ``give_back``)."""
    # One attachment record may sit on several attempts (a parser's shared list): its bytes,
    # dropped the first time, are the file stored then. Keyed by ``id``: ``record`` holds them.
    inline: dict[int, tuple[str, int] | None] = {}
    for test in record.tests:
        for attempt in test.attempts:
            for attachment in attempt.attachments:
                if id(attachment) in inline:
                    into.attachments.append(inline[id(attachment)])
                    continue
                was_inline = attachment.body is not None
                stored = _stage_attachment(store, into, attachment, source, max_bytes, consume)
                if was_inline:
                    inline[id(attachment)] = stored
                into.attachments.append(stored)
    for report in record.reports:
        into.reports.append([_put(store, into, store.put_bytes(f.body)) for f in report.files])
