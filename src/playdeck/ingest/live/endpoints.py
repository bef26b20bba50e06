"""Live runs: ``POST /api/test-runs/live`` opens a client's part; batches of finished tests,
heartbeats and the close go to ``/api/test-runs/{run_id}/parts/{part_id}/...``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.authz.service import check_delivery_by_name
from playdeck.deps import BaseUrlDep, BlobStoreDep, SessionDep, SettingsDep, UploadSessionDep
from playdeck.ingest import worker
from playdeck.ingest.endpoints import IdempotencyKeyHeader, ReportUploadDep
from playdeck.ingest.live import service
from playdeck.ingest.live import use_cases as live
from playdeck.ingest.live.schemas import LivePart, LivePartClose, LiveRunOpen
from playdeck.ingest.schemas import IngestResponse
from playdeck.ingest.use_cases import Ingestion
from playdeck.problems import OrjsonResponse
from playdeck.runs.access import RunAccess, run_access
from playdeck.runs.filters import IdPath

router = APIRouter(prefix="/api/test-runs", tags=["live runs"])

WritableRun = Annotated[RunAccess, run_access(Permission.RUNS_WRITE)]


def _live_run(session: SessionDep, access: WritableRun) -> RunAccess:
    """The run, for a caller who may write it the way its parts were opened: by the project's
    name, so a global role's credential may not write into a project users own
    (``check_delivery_by_name``, as ``/submit`` refuses it)."""
    check_delivery_by_name(session, access.principal, access.project)
    return access


_live_run.permission = Permission.RUNS_WRITE  # type: ignore[attr-defined]
LiveRun = Annotated[RunAccess, Depends(_live_run)]


def _open_part(session: SessionDep, access: LiveRun, part_id: IdPath) -> RunAccess:
    """The run, once its part is known to take results (404, 409 before the body is read)."""
    service.open_part(session, access.run, part_id)
    return access


_open_part.permission = Permission.RUNS_WRITE  # type: ignore[attr-defined]


@router.post("/live", status_code=201, response_model=LivePart)
def open_live_run(
    session: SessionDep,
    store: BlobStoreDep,
    settings: SettingsDep,
    links: BaseUrlDep,
    principal: Annotated[Principal, authorize(Permission.RUNS_WRITE)],
    body: LiveRunOpen,
    idempotency_key: IdempotencyKeyHeader = None,
) -> OrjsonResponse:
    """Open a client's part of a live run: the run of `runKey` in the project (created by the
    first part to arrive), or a run of its own. The run is `running` until every part is
    closed; a part whose client sends nothing for `PLAYDECK_LIVE_HEARTBEAT_SECONDS` is closed
    as interrupted. Send it with an `Idempotency-Key`: a retried opening answers the same part."""
    part = live.open_live(
        session,
        Ingestion(store, settings, principal),
        request=body,
        base_url=links,
        idempotency_key=idempotency_key,
    )
    return OrjsonResponse(part.model_dump(by_alias=True, mode="json"), status_code=201)


@router.post("/{run_id}/parts/{part_id}/results", status_code=201, response_model=IngestResponse)
async def send_live_results(
    access: Annotated[RunAccess, Depends(_open_part)],
    session: UploadSessionDep,
    upload: ReportUploadDep,
    part_id: IdPath,
    idempotency_key: IdempotencyKeyHeader = None,
) -> OrjsonResponse:
    """A batch of finished tests for an open part: the JSON `/submit` takes, or the form
    `/upload` takes (report `file`, `attachment` parts). Send each batch with its own
    `Idempotency-Key`: a retried batch is stored once."""
    target = service.LivePart(run_id=access.run.id, part_id=part_id)
    sender = worker.Sender(access.principal, access.project.name, idempotency_key, target)
    return await upload.store_run(session, sender, multipart=upload.multipart)


@router.post("/{run_id}/parts/{part_id}/heartbeat", status_code=204)
def send_live_heartbeat(session: SessionDep, access: LiveRun, part_id: IdPath) -> Response:
    """The part's client is alive (during a long test, between batches)."""
    service.heartbeat(session, run=access.run, part_id=part_id)
    return Response(status_code=204)


@router.post("/{run_id}/parts/{part_id}/close", response_model=LivePart)
def close_live_part(
    session: SessionDep,
    links: BaseUrlDep,
    access: LiveRun,
    part_id: IdPath,
    body: LivePartClose | None = None,
) -> OrjsonResponse:
    """The client's part is done (`status`: `interrupted` or `timedout` when cut short). The
    run leaves `running` once every part is closed and every shard arrived."""
    part = live.close_live(
        session,
        run=access.run,
        part_id=part_id,
        status=body.status if body is not None else None,
        base_url=links,
    )
    return OrjsonResponse(part.model_dump(by_alias=True, mode="json"))
