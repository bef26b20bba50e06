"""Ingest in worker processes: reports parsed and stored off the serving process.

Parsing a big report and building its rows is CPU-bound Python. In the serving process it holds
the interpreter lock for seconds, so every page and API read waits behind it, and CPython keeps
most of the memory it needed. With ``PLAYDECK_INGEST_IN_WORKER_PROCESS`` (the default) the
serving process only receives the request (a JSON body goes to a spool file, never into its
memory whole) and hands it to a worker process (``ingest.worker``), which stores it in one
transaction before the answer comes back, so a ``201`` still means stored.

A worker whose peak memory grew by more than ``RECYCLE_GROWTH_MIB`` over a job is replaced
after it (its pool is retired and a new one started), which gives that memory back to the
operating system.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import secrets
import shutil
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import CapacityLimiter, open_file, to_thread
from fastapi import Request
from starlette.datastructures import FormData

from playdeck.errors import RETRY_AFTER_SECONDS, ServiceUnavailable
from playdeck.ingest.result import IngestResult
from playdeck.ingest.worker import Done, Part, Sender, SubmitJob, UploadJob, run_job, start, warm_up
from playdeck.observability.metrics import count_ingest, multiprocess_dir
from playdeck.observability.request_id import current_request_id
from playdeck.settings import Settings

# The name operators filter on since the pool and the worker were one module.
logger = logging.getLogger("playdeck.ingest.worker")

# Peak memory a job may add to a worker before the worker is replaced (MiB). A 10,000-test
# report adds about 70; the memory of bigger ones goes back to the operating system.
RECYCLE_GROWTH_MIB = 100
_CHUNK = 1024 * 1024
_STALE_SPOOL_SECONDS = 24 * 3600


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
                    initializer=start,
                    initargs=(self._settings, os.getpid()),
                )
                # Each submit starts one process while none is idle.
                self._warming = [self._executor.submit(warm_up) for _ in range(workers)]
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
            # The request's id goes with the job: the worker's lines carry it too.
            done: Done = await asyncio.wrap_future(
                executor.submit(run_job, job, current_request_id())
            )
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
