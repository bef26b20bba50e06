"""The ingest worker process: what it receives (a ``SubmitJob`` or an ``UploadJob``), how it
starts (``start``) and how it runs one job (``run_job``); the serving process's side is
``ingest.pool``.

A worker runs the same use case as the serving process would (``use_cases.submit_json`` or
``upload_form``) in its own session: one transaction, committed, or rolled back with the files
it stored discarded, before the answer comes back, so a ``201`` still means stored. Refusals
(``AppError``) go back as themselves; an outage or a value the database refused goes back as
the exception the serving process's error handlers answer for it (the database's own
exceptions would carry their statements and parameters across).

A worker is spawned, so it imports this module and what it imports, nothing else: no web
framework (``tests/ingest/test_worker_imports.py``), whose modules would sit in every worker's
memory for nothing.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import resource
import signal
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, StatementError
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData, Headers, UploadFile

from playdeck.auth.principal import Principal
from playdeck.db import make_engine, make_sessionmaker, timeouts_of, unit_of_work, writer
from playdeck.errors import AppError, outage_error
from playdeck.ingest import use_cases
from playdeck.ingest.result import IngestResult
from playdeck.ingest.service import RunTarget
from playdeck.kit.text import UnstorableText
from playdeck.observability.logging import configure_logging
from playdeck.observability.request_id import serving_request
from playdeck.settings import Settings
from playdeck.storage.base import BlobStore
from playdeck.storage.filesystem import FilesystemBlobStore

logger = logging.getLogger("playdeck.ingest.worker")

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True, slots=True)
class Part:
    """A multipart field as a worker receives it: text, or a file in the spool directory."""

    name: str
    value: str = ""
    path: str | None = None
    filename: str | None = None
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sends a report, to which project (``?projectName=``), under which Idempotency-Key."""

    principal: Principal
    project_name: str | None
    idempotency_key: str | None
    # Where the run goes when not into a new run (a run key's run, a live part): plain values.
    target: RunTarget | None = None

    def ingest(
        self,
        session: Session,
        source: bytes | Path | FormData,
        *,
        store: BlobStore,
        settings: Settings,
    ) -> IngestResult:
        """Store ``source`` as this sender's: a JSON body (or the file holding it), or a form."""
        if isinstance(source, FormData):
            use_case = partial(use_cases.upload_form, form=source)
        else:
            use_case = partial(use_cases.submit_json, body=source)
        return use_case(
            session,
            use_cases.Ingestion(store, settings, self.principal),
            project_name=self.project_name,
            idempotency_key=self.idempotency_key,
            target=self.target,
        )


@dataclass(frozen=True, slots=True)
class SubmitJob:
    sender: Sender
    body_path: str


@dataclass(frozen=True, slots=True)
class UploadJob:
    sender: Sender
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class Done:
    result: IngestResult
    seconds: float
    grown_mib: float


@dataclass(frozen=True, slots=True)
class _Worker:
    settings: Settings
    write_engine: Engine
    sessionmaker: sessionmaker[Session]
    store: BlobStore
    baseline_mib: float


_STATE: dict[str, _Worker] = {}


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def start(settings: Settings, server_pid: int) -> None:
    """Initialise a worker process: its own engine and file store, built from the settings."""
    # The serving process decides when the workers stop (Ctrl+C reaches the whole group).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(server_pid)
    configure_logging(level=settings.log_level, log_format=settings.log_format)
    engine = make_engine(settings.effective_database_url, timeouts_of(settings))
    atexit.register(engine.dispose)
    _STATE["worker"] = _Worker(
        settings=settings,
        write_engine=writer(engine),
        sessionmaker=make_sessionmaker(engine),
        store=FilesystemBlobStore(settings.files_dir, grace_seconds=settings.storage_grace_seconds),
        baseline_mib=_peak_rss_mib(),
    )


def _die_with(server_pid: int) -> None:
    """Be killed when the serving process dies, even by ``kill -9``, as a thread of it would
    be: an orphaned worker would go on to commit a run whose client was never answered, and
    linger. Linux only (``prctl``); elsewhere a worker ends its job and then sees the closed
    pipe."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != server_pid:  # it died before the line above
        os._exit(1)


def warm_up() -> None:
    """A job that does nothing: submitted to start a pool's processes ahead of the first ingest."""


def run_job(job: SubmitJob | UploadJob, request_id: str | None) -> Done:
    """Parse and store one report in this worker's own transaction. What the job logs, its
    failure included, carries ``request_id``: the id of the request that sent the report, which
    its client received as ``X-Request-ID``."""
    with serving_request(request_id):
        return _run(job)


def _run(job: SubmitJob | UploadJob) -> Done:
    worker = _STATE["worker"]
    started = time.perf_counter()
    try:
        with unit_of_work(worker.sessionmaker, worker.write_engine) as session:
            result = _ingest(session, worker, job)
    except AppError:
        raise
    except Exception as exc:
        portable = _portable(exc)
        if portable is None:
            logger.exception("ingest failed in the worker process")
            raise RuntimeError(f"the ingest worker failed: {type(exc).__name__}") from None
        raise portable from None
    return Done(
        result,
        seconds=time.perf_counter() - started,
        grown_mib=_peak_rss_mib() - worker.baseline_mib,
    )


def _ingest(session: Session, worker: _Worker, job: SubmitJob | UploadJob) -> IngestResult:
    if isinstance(job, SubmitJob):
        source = Path(job.body_path)
        return job.sender.ingest(session, source, store=worker.store, settings=worker.settings)
    with ExitStack() as files:
        form = FormData(
            [
                (part.name, part.value)
                if part.path is None
                else (
                    part.name,
                    UploadFile(
                        files.enter_context(open(part.path, "rb")),
                        filename=part.filename,
                        headers=Headers({"content-type": part.content_type or ""}),
                    ),
                )
                for part in job.parts
            ]
        )
        return job.sender.ingest(session, form, store=worker.store, settings=worker.settings)


def _portable(exc: Exception) -> Exception | None:
    """``exc`` as an exception the serving process answers as it would have in process (an
    outage, text no database can hold, a value the database refused); ``None`` for a bug."""
    error = outage_error(exc)
    if error is not None:
        return error
    cause = exc.orig if isinstance(exc, StatementError) else exc
    if isinstance(cause, UnstorableText):
        return UnstorableText(str(cause))
    if isinstance(exc, DataError):
        return DataError(exc.statement, None, Exception(str(exc.orig)))
    return None
