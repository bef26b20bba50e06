"""Report ingest: ``/api/test-runs/submit`` (JSON) and ``/api/test-runs/upload`` (multipart)."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Depends, Header, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException

from playdeck.auth.csrf import accepts_reporter_cookie
from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import BaseUrlDep, BlobStoreDep, SettingsDep, UploadSessionDep
from playdeck.errors import BadRequest
from playdeck.ingest import pool, use_cases, worker
from playdeck.ingest.idempotency import HEADER
from playdeck.ingest.result import IngestResult
from playdeck.ingest.schemas import IngestResponse
from playdeck.kit.limits import read_form
from playdeck.problems import OrjsonResponse
from playdeck.settings import Settings
from playdeck.storage.base import BlobStore

router = APIRouter(prefix="/api/test-runs", tags=["ingest"])

# Report uploads: their JSON is a report, parsed as one (kit.json_guard does not check them).
REPORT_PATHS = frozenset({"/api/test-runs/submit", "/api/test-runs/upload"})
# A live run's batches (``ingest.live.endpoints``) are report uploads too.
_LIVE_RESULTS_PATH = re.compile(r"^/api/test-runs/\d{1,19}/parts/\d{1,19}/results$")


def is_report_path(path: str) -> bool:
    return path in REPORT_PATHS or _LIVE_RESULTS_PATH.match(path) is not None


ProjectNameQuery = Annotated[
    str | None,
    Query(alias="projectName", max_length=200, description="Project to store the run in."),
]


RunKeyQuery = Annotated[
    str | None,
    Query(
        alias="runKey",
        max_length=200,
        description="The CI build this upload belongs to: uploads of one project with the same "
        "key are one run (shards, matrix jobs). The upload form may send it as a field.",
    ),
]
ShardQuery = Annotated[
    str | None,
    Query(
        max_length=20,
        description="This upload's shard of the build, `current/total` from 1 (e.g. `2/8`); "
        "needs `runKey`. The upload form may send it as a field.",
    ),
]


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="Any unique string (a UUID): a retry with the same key and content answers "
        "the run stored the first time instead of storing it again.",
    ),
]


def ingest_slots(request: Request) -> CapacityLimiter:
    """At most ``PLAYDECK_MAX_CONCURRENT_INGESTS`` ingests parse and store at once; the others
    wait here holding no thread and no connection. Parsing is CPU-bound Python: more at once
    would not finish sooner, and would starve sign-ins and pages of the interpreter."""
    state = request.app.state
    if getattr(state, "ingest_slots", None) is None:
        state.ingest_slots = CapacityLimiter(state.settings.max_concurrent_ingests)
    slots: CapacityLimiter = state.ingest_slots
    return slots


def created(links: str, result: IngestResult) -> OrjsonResponse:
    body = IngestResponse(
        test_run_id=result.run_id, project_id=result.project_id, url=f"{links}/runs/{result.run_id}"
    )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return OrjsonResponse(body.model_dump(by_alias=True), status_code=201, headers=headers)


async def _read_report_form(request: Request, settings: Settings) -> FormData:
    try:
        return await read_form(request, max_part_size=settings.max_upload_bytes)
    except MultiPartException as exc:
        raise BadRequest(f"Malformed multipart body: {exc.message}", code="malformed_form") from exc


async def run_ingest(
    request: Request,
    session: Session,
    *,
    store: BlobStore,
    settings: Settings,
    sender: worker.Sender,
    multipart: bool,
) -> IngestResult:
    """Store one upload, a multipart form or a JSON body: in the ingest worker process when it
    is on, else in a thread of this one; either way at most ``ingest_slots`` at once."""
    slots = ingest_slots(request)
    async with AsyncExitStack() as stack:
        form = None
        if multipart:
            form = await _read_report_form(request, settings)
            stack.push_async_callback(form.close)
        if settings.ingest_in_worker_process:
            if form is None:
                return await pool.submit(request, slots, sender)
            return await pool.upload(request, slots, form, sender)
        source = await request.body() if form is None else form
        ingest = partial(sender.ingest, session, source, store=store, settings=settings)
        return await to_thread.run_sync(ingest, limiter=slots)


@dataclass(frozen=True, slots=True)
class ReportUpload:
    """A request that delivers a report (``/submit``, ``/upload``, a live run's batch): what
    storing it needs besides the route's credential and session, and the base of the run's
    link in the answer (``deps.BaseUrlDep``)."""

    request: Request
    store: BlobStore
    settings: Settings
    links: str

    @property
    def multipart(self) -> bool:
        return self.request.headers.get("content-type", "").startswith("multipart/form-data")

    async def store_run(
        self, session: Session, sender: worker.Sender, *, multipart: bool
    ) -> OrjsonResponse:
        """Store it (``run_ingest``) and answer 201 with the run."""
        result = await run_ingest(
            self.request,
            session,
            store=self.store,
            settings=self.settings,
            sender=sender,
            multipart=multipart,
        )
        return created(self.links, result)


def _report_upload(
    request: Request, store: BlobStoreDep, settings: SettingsDep, links: BaseUrlDep
) -> ReportUpload:
    return ReportUpload(request, store, settings, links)


ReportUploadDep = Annotated[ReportUpload, Depends(_report_upload)]


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where ``/submit`` and ``/upload`` store a run, from the query and the headers."""

    project_name: str | None
    idempotency_key: str | None
    run_key: str | None
    shard: str | None

    def sender(self, principal: Principal) -> worker.Sender:
        target = use_cases.keyed_part(self.run_key, self.shard)
        return worker.Sender(principal, self.project_name, self.idempotency_key, target)


def _delivery(
    project_name: ProjectNameQuery = None,
    idempotency_key: IdempotencyKeyHeader = None,
    run_key: RunKeyQuery = None,
    shard: ShardQuery = None,
) -> Delivery:
    return Delivery(project_name, idempotency_key, run_key, shard)


DeliveryDep = Annotated[Delivery, Depends(_delivery)]


@router.post("/submit", status_code=201, response_model=IngestResponse)
@accepts_reporter_cookie
async def submit_test_run(
    principal: Annotated[Principal, authorize(Permission.RUNS_WRITE)],
    session: UploadSessionDep,
    upload: ReportUploadDep,
    delivery: DeliveryDep,
) -> OrjsonResponse:
    """Submit a run as JSON: the PhenX reporter's format, or a Playwright JSON report
    (``--reporter=json``) with the project named by ``?projectName=``."""
    sender = delivery.sender(principal)
    return await upload.store_run(session, sender, multipart=False)


@router.post("/upload", status_code=201, response_model=IngestResponse)
@accepts_reporter_cookie
async def upload_test_run(
    principal: Annotated[Principal, authorize(Permission.RUNS_WRITE)],
    session: UploadSessionDep,
    upload: ReportUploadDep,
    delivery: DeliveryDep,
) -> OrjsonResponse:
    """Upload report files (multipart): Playwright JSON, JUnit XML, a zip with attachments,
    or the PhenX reporter's ``testRun``/``testCases``/``report_*``/``trace_*`` parts."""
    sender = delivery.sender(principal)
    if not upload.multipart:
        raise BadRequest("Expected multipart/form-data", code="unsupported_media_type", status=415)
    return await upload.store_run(session, sender, multipart=True)
