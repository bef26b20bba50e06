"""Report ingest: ``/api/test-runs/submit`` (JSON) and ``/api/test-runs/upload`` (multipart)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Header, Query, Request
from starlette.formparsers import MultiPartException

from playdeck.auth.csrf import accepts_reporter_cookie
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import authorize
from playdeck.deps import BlobStoreDep, SettingsDep, UploadSessionDep
from playdeck.errors import BadRequest, OrjsonResponse
from playdeck.ingest import use_cases, worker
from playdeck.ingest.idempotency import HEADER
from playdeck.ingest.schemas import IngestResponse
from playdeck.ingest.service import IngestResult
from playdeck.kit.limits import read_form
from playdeck.settings import Settings

router = APIRouter(prefix="/api/test-runs", tags=["ingest"])

# Report uploads: their JSON is a report, parsed as one (kit.json_guard does not check them).
REPORT_PATHS = frozenset({"/api/test-runs/submit", "/api/test-runs/upload"})

ProjectNameQuery = Annotated[
    str | None,
    Query(alias="projectName", max_length=200, description="Project to store the run in."),
]


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="Any unique string (a UUID): a retry with the same key and content answers "
        "the run stored the first time instead of storing it again.",
    ),
]


def _ingest_slots(request: Request) -> CapacityLimiter:
    """At most ``PLAYDECK_MAX_CONCURRENT_INGESTS`` ingests parse and store at once; the others
    wait here holding no thread and no connection. Parsing is CPU-bound Python: more at once
    would not finish sooner, and would starve sign-ins and pages of the interpreter."""
    state = request.app.state
    if getattr(state, "ingest_slots", None) is None:
        state.ingest_slots = CapacityLimiter(state.settings.max_concurrent_ingests)
    slots: CapacityLimiter = state.ingest_slots
    return slots


def _created(request: Request, settings: Settings, result: IngestResult) -> OrjsonResponse:
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    body = IngestResponse(
        test_run_id=result.run_id, project_id=result.project_id, url=f"{base}/runs/{result.run_id}"
    )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return OrjsonResponse(body.model_dump(by_alias=True), status_code=201, headers=headers)


@router.post("/submit", status_code=201, response_model=IngestResponse)
@accepts_reporter_cookie
async def submit_test_run(
    request: Request,
    store: BlobStoreDep,
    settings: SettingsDep,
    principal: Annotated[Principal, authorize(Permission.RUNS_WRITE)],
    session: UploadSessionDep,
    project_name: ProjectNameQuery = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> OrjsonResponse:
    """Submit a run as JSON: the PhenX reporter's format, or a Playwright JSON report
    (``--reporter=json``) with the project named by ``?projectName=``."""
    if settings.ingest_in_worker_process:
        sender = worker.Sender(principal, project_name, idempotency_key)
        result = await worker.submit(request, _ingest_slots(request), sender)
        return _created(request, settings, result)
    body = await request.body()
    ingest = partial(
        use_cases.submit_json,
        session,
        store=store,
        settings=settings,
        principal=principal,
        body=body,
        project_name=project_name,
        idempotency_key=idempotency_key,
    )
    result = await to_thread.run_sync(ingest, limiter=_ingest_slots(request))
    return _created(request, settings, result)


@router.post("/upload", status_code=201, response_model=IngestResponse)
@accepts_reporter_cookie
async def upload_test_run(
    request: Request,
    store: BlobStoreDep,
    settings: SettingsDep,
    principal: Annotated[Principal, authorize(Permission.RUNS_WRITE)],
    session: UploadSessionDep,
    project_name: ProjectNameQuery = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> OrjsonResponse:
    """Upload report files (multipart): Playwright JSON, JUnit XML, a zip with attachments,
    or the PhenX reporter's ``testRun``/``testCases``/``report_*``/``trace_*`` parts."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise BadRequest("Expected multipart/form-data", code="unsupported_media_type", status=415)
    try:
        form = await read_form(request, max_part_size=settings.max_upload_bytes)
    except MultiPartException as exc:
        raise BadRequest(f"Malformed multipart body: {exc.message}", code="malformed_form") from exc
    try:
        if settings.ingest_in_worker_process:
            sender = worker.Sender(principal, project_name, idempotency_key)
            result = await worker.upload(request, _ingest_slots(request), form, sender)
            return _created(request, settings, result)
        ingest = partial(
            use_cases.upload_form,
            session,
            store=store,
            settings=settings,
            principal=principal,
            form=form,
            project_name=project_name,
            idempotency_key=idempotency_key,
        )
        result = await to_thread.run_sync(ingest, limiter=_ingest_slots(request))
    finally:
        await form.close()
    return _created(request, settings, result)
