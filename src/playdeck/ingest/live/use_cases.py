"""Live runs, from the API's requests: open a part (a new run, or the run of a key), send it
batches of finished tests, keep it alive, close it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from playdeck.errors import Conflict, InvalidInput
from playdeck.ingest import use_cases
from playdeck.ingest.idempotency import body_fingerprint, key_of
from playdeck.ingest.live import service
from playdeck.ingest.live.schemas import LivePart, LiveRunOpen
from playdeck.ingest.live.shards import run_key, shard
from playdeck.ingest.records import RunRecord
from playdeck.kit.clock import utcnow
from playdeck.models import Run, RunPart
from playdeck.outcomes import CUT_SHORT_STATUSES, PartState, RunStatus


def open_live(
    session: Session,
    ingest: use_cases.Ingestion,
    *,
    request: LiveRunOpen,
    base_url: str,
    idempotency_key: str | None = None,
) -> LivePart:
    """A new open part: of the run of ``runKey`` (created by the first part to arrive, in the
    project named, created when allowed), or of a new run when no key is given. Sent again
    with its ``Idempotency-Key``, the opening answers the part it opened."""
    found = shard(request.shard)
    fingerprint = body_fingerprint(request.model_dump_json(by_alias=True).encode())
    idempotency = key_of(ingest.principal, idempotency_key, fingerprint)
    record = RunRecord(
        source_format="live",
        started_at=utcnow(),
        project_name=request.project_name,
        tags=list(dict.fromkeys(t for t in request.tags if t)),
        metadata=request.metadata,
    )
    use_cases.overrides_from(request.fields()).apply(record)
    target = service.KeyedPart(
        key=run_key(request.run_key),
        shard=found,
        live=True,
        expected_tests=request.expected_tests,
        open_key=idempotency_key,
    )
    result = ingest.store_run(session, record, target=target, idempotency=idempotency)
    part = target.part
    if result.replayed and idempotency_key is not None:
        part = service.opened_with(session, result.run_id, idempotency_key)
    if part is None:  # pragma: no cover - the key's run exists, so does its part
        raise Conflict("This opening's part is gone", code="conflict")
    run = session.get_one(Run, result.run_id)
    return part_of(run, part, base_url)


def close_live(
    session: Session, *, run: Run, part_id: int, status: RunStatus | None, base_url: str
) -> LivePart:
    if status is not None and status not in CUT_SHORT_STATUSES:
        raise InvalidInput(
            f"status: a client closes its part as {' or '.join(sorted(CUT_SHORT_STATUSES))}, "
            "or without a status (the tests decide)",
            code="invalid_status",
        )
    part = service.close_part(session, run=run, part_id=part_id, status=status)
    return part_of(service.lock_run(session, run.id), part, base_url)


def part_of(run: Run, part: RunPart, base_url: str) -> LivePart:
    spec = None
    if part.shard_index is not None and part.shard_total is not None:
        spec = f"{part.shard_index}/{part.shard_total}"
    return LivePart(
        test_run_id=run.id,
        part_id=part.id,
        project_id=run.project_id,
        shard=spec,
        state=PartState(part.state),
        run_status=RunStatus(run.status),
        url=f"{base_url}/runs/{run.id}",
    )
