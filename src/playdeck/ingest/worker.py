"""Ingest in worker processes: reports parsed and stored off the serving process.

Parsing a big report and building its rows is CPU-bound Python. In the serving process it holds
the interpreter lock for seconds, so every page and API read waits behind it, and CPython keeps
most of the memory it needed. With ``PLAYDECK_INGEST_IN_WORKER_PROCESS`` (the default) the
serving process only receives the request (a JSON body goes to a spool file, never into its
memory whole) and a worker process runs the same use case (``use_cases.submit_json`` or
``upload_form``) in its own session: one transaction, committed, or rolled back with the files
it stored discarded, before the answer comes back, so a ``201`` still means stored.

A worker whose peak memory grew by more than ``RECYCLE_GROWTH_MIB`` over a job is replaced
after it (its pool is retired and a new one started), which gives that memory back to the
operating system. Refusals (``AppError``) come back as themselves; an outage or a value the
database refused comes back as the exception the serving process's error handlers answer for
it (the database's own exceptions would carry their statements and parameters across).
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import logging
import multiprocessing
import os
import resource
import secrets
import shutil
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from anyio import CapacityLimiter, open_file, to_thread
from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, StatementError
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData, Headers, UploadFile

from playdeck.auth.principal import Principal
from playdeck.db import make_engine, make_sessionmaker, timeouts_of, unit_of_work, writer
from playdeck.errors import RETRY_AFTER_SECONDS, AppError, ServiceUnavailable, outage_error
from playdeck.ingest import use_cases
from playdeck.ingest.service import IngestResult, RunTarget
from playdeck.kit.text import UnstorableText
from playdeck.observability.logging import configure_logging
from playdeck.observability.metrics import count_ingest, multiprocess_dir
from playdeck.settings import Settings
from playdeck.storage.base import BlobStore
from playdeck.storage.filesystem import FilesystemBlobStore

logger = logging.getLogger("playdeck.ingest.worker")

# Peak memory a job may add to a worker before the worker is replaced (MiB). A 10,000-test
# report adds about 70; the memory of bigger ones goes back to the operating system.
RECYCLE_GROWTH_MIB = 100
_CHUNK = 1024 * 1024
_STALE_SPOOL_SECONDS = 24 * 3600
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
            store=store,
            settings=settings,
            principal=self.principal,
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


# ---- In the worker process -------------------------------------------------------------------


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


def _start(settings: Settings, server_pid: int) -> None:
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


def _ready() -> None:
    """A job that does nothing: submitted to start a pool's processes ahead of the first ingest."""


def run_job(job: SubmitJob | UploadJob) -> Done:
    """Parse and store one report in this worker's own transaction."""
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


# ---- In the serving process ------------------------------------------------------------------


class IngestPool:
    """The serving process's ingest workers: ``max_concurrent_ingests`` spawned processes,
    started with the app, replaced after a job that grew one (see ``RECYCLE_GROWTH_MIB``) or
    when one died."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._executor: ProcessPoolExecutor | None = None
        self._warming: list[Future[None]] = []
        self._lock = threading.Lock()

    async def start(self) -> None:
        """Start the workers and wait until they are ready, so that a server that answers
        ``/readyz`` ingests without waiting for a process to start; remove what a server
        killed mid-request left in the spool (other servers may share the data directory:
        only what is a day old)."""
        self._current()
        await asyncio.gather(*(asyncio.wrap_future(ready) for ready in self._warming))
        spool = self._settings.data_dir / "spool"
        if spool.is_dir():
            for entry in spool.iterdir():
                if entry.stat().st_mtime < time.time() - _STALE_SPOOL_SECONDS:
                    shutil.rmtree(entry, ignore_errors=True)

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                workers = self._settings.max_concurrent_ingests
                self._executor = ProcessPoolExecutor(
                    max_workers=workers,
                    # Not fork: the serving process has threads (a forked lock could be held).
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start,
                    initargs=(self._settings, os.getpid()),
                )
                # Each submit starts one process while none is idle.
                self._warming = [self._executor.submit(_ready) for _ in range(workers)]
            return self._executor

    def _retire(self, executor: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False)  # its processes exit once their jobs are answered
        self._current()

    async def run(self, job: SubmitJob | UploadJob) -> IngestResult:
        executor = self._current()
        try:
            done: Done = await asyncio.wrap_future(executor.submit(run_job, job))
        except BrokenProcessPool as exc:
            # A worker died mid-job (the out-of-memory killer, say): its transaction was never
            # committed; the next job gets new workers.
            self._retire(executor)
            logger.error("an ingest worker process died: %s", exc)
            raise ServiceUnavailable(
                "The ingest worker stopped; nothing was stored, try again",
                code="ingest_worker_lost",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ) from None
        if done.grown_mib > RECYCLE_GROWTH_MIB:
            self._retire(executor)
        result = done.result
        # Under `serve`, the workers' own counters are summed with the server's (prometheus
        # multiprocess mode); otherwise they are counted here.
        if not result.replayed and multiprocess_dir() is None:
            count_ingest(tests=result.tests, seconds=done.seconds)
        return result

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def _pool(request: Request) -> IngestPool:
    pool: IngestPool = request.app.state.ingest_pool
    return pool


@asynccontextmanager
async def _spool(settings: Settings) -> AsyncIterator[Path]:
    """A directory for one request's files, removed when the worker has answered."""
    directory = settings.data_dir / "spool" / secrets.token_hex(8)
    await to_thread.run_sync(lambda: directory.mkdir(parents=True))
    try:
        yield directory
    finally:
        await to_thread.run_sync(lambda: shutil.rmtree(directory, ignore_errors=True))


async def submit(request: Request, slots: CapacityLimiter, sender: Sender) -> IngestResult:
    """``use_cases.submit_json`` in a worker, the body streamed to a spool file first."""
    settings: Settings = request.app.state.settings
    async with _spool(settings) as directory:
        path = directory / "body"
        async with await open_file(path, "wb") as out:
            pending = bytearray()
            async for chunk in request.stream():
                pending += chunk
                if len(pending) >= _CHUNK:
                    await out.write(bytes(pending))
                    pending.clear()
            await out.write(bytes(pending))
        job = SubmitJob(sender, str(path))
        async with slots:
            return await _pool(request).run(job)


async def upload(
    request: Request, slots: CapacityLimiter, form: FormData, sender: Sender
) -> IngestResult:
    """``use_cases.upload_form`` in a worker, the form's files copied to the spool first."""
    settings: Settings = request.app.state.settings
    async with _spool(settings) as directory:
        parts = await to_thread.run_sync(_spool_parts, form, directory)
        job = UploadJob(sender, parts)
        async with slots:
            return await _pool(request).run(job)


def _spool_parts(form: FormData, directory: Path) -> tuple[Part, ...]:
    parts: list[Part] = []
    for number, (name, value) in enumerate(form.multi_items()):
        if isinstance(value, str):
            parts.append(Part(name, value=value))
            continue
        path = directory / str(number)
        value.file.seek(0)
        with open(path, "wb") as out:
            shutil.copyfileobj(value.file, out, _CHUNK)
        value.file.seek(0)
        parts.append(
            Part(name, path=str(path), filename=value.filename, content_type=value.content_type)
        )
    return tuple(parts)
