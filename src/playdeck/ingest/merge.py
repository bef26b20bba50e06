"""Several reports uploaded together (e.g. JUnit files of parallel shards) make one run."""

from __future__ import annotations

from playdeck.ingest.records import RunRecord
from playdeck.ingest.run_fields import RUN_FIELDS
from playdeck.outcomes import CUT_SHORT_STATUSES


def merge_runs(records: list[RunRecord]) -> RunRecord:
    if len(records) == 1:
        return records[0]
    first = min(records, key=lambda r: r.started_at)
    end = max(r.started_at.timestamp() * 1000 + r.duration_ms for r in records)
    merged = RunRecord(
        source_format=first.source_format
        if len({r.source_format for r in records}) == 1
        else "mixed",
        started_at=first.started_at,
        duration_ms=int(end - first.started_at.timestamp() * 1000),
    )
    for record in records:
        for name in ("project_name", "project_description", *RUN_FIELDS):
            if getattr(merged, name) is None and getattr(record, name) is not None:
                setattr(merged, name, getattr(record, name))
        merged.tags.extend(t for t in record.tags if t not in merged.tags)
        merged.metadata.update(record.metadata)
        merged.tests.extend(record.tests)
        merged.reports.extend(record.reports)
    cut_short = [r.status for r in records if r.status in CUT_SHORT_STATUSES]
    if cut_short:
        merged.status = cut_short[0]
    return merged
