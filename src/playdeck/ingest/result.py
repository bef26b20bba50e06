"""What an ingest answers: the run it stored, or the run an earlier request with the same
``Idempotency-Key`` stored."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IngestResult:
    run_id: int
    project_id: int
    project_slug: str
    replayed: bool = False  # an earlier request with the same Idempotency-Key stored the run
    tests: int = 0  # how many this request stored (none when replayed)
