"""Prometheus metrics (prometheus-client), defined once per process.

Under ``playdeck serve --workers N`` every worker writes its samples to files in
``PROMETHEUS_MULTIPROC_DIR`` (set by ``serve`` before the workers start) and a scrape of any
worker adds them all up: prometheus-client's multiprocess mode. Several instances are scraped
one by one, as Prometheus does anyway. See docs/operations.md.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from playdeck import __version__
from playdeck.db import after_commit

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter(
    "playdeck_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "playdeck_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
INGESTS = Counter("playdeck_ingests", "Runs stored (committed ingests).")
INGESTED_TESTS = Counter("playdeck_ingested_tests", "Test results stored by committed ingests.")
INGEST_DURATION = Histogram(
    "playdeck_ingest_duration_seconds",
    "Time to store one parsed run: database rows and files, until commit.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
DB_CONNECTIONS_OPEN = Gauge(
    "playdeck_db_connections_open",
    "Database connections open in the connection pools.",
    multiprocess_mode="livesum",
)
DB_CONNECTIONS_IN_USE = Gauge(
    "playdeck_db_connections_in_use",
    "Database connections checked out of the pools (serving a request or a task).",
    multiprocess_mode="livesum",
)
RATE_LIMIT_REFUSALS = Counter(
    "playdeck_rate_limit_refusals",
    "Requests refused by a rate limit (HTTP 429), by rule.",
    ["rule"],
)
LOGIN_FAILURES = Counter(
    "playdeck_login_failures",
    "Failed password sign-ins, by reason.",
    ["reason"],
)
BUILD_INFO = Gauge(
    "playdeck_build_info",
    "Always 1; the label says which Playdeck version is running.",
    ["version"],
    multiprocess_mode="max",
)
BUILD_INFO.labels(version=__version__).set(1)


def instrument_engine(engine: Engine) -> None:
    """Follow ``engine``'s pool: connections opened and closed, checked out and in."""

    def opened(*_args: Any) -> None:
        DB_CONNECTIONS_OPEN.inc()

    def closed(*_args: Any) -> None:
        DB_CONNECTIONS_OPEN.dec()

    def checked_out(*_args: Any) -> None:
        DB_CONNECTIONS_IN_USE.inc()

    def checked_in(*_args: Any) -> None:
        DB_CONNECTIONS_IN_USE.dec()

    event.listen(engine, "connect", opened)
    event.listen(engine, "close", closed)
    event.listen(engine, "close_detached", closed)
    event.listen(engine, "checkout", checked_out)
    event.listen(engine, "checkin", checked_in)


def count_ingest_on_commit(session: Session, *, tests: int, started: float) -> None:
    """Count a run once its transaction commits (a rolled-back ingest stored nothing)."""

    after_commit(session, lambda: count_ingest(tests=tests, seconds=time.perf_counter() - started))


def count_ingest(*, tests: int, seconds: float) -> None:
    """Count a stored run (from the serving process, for a run an ingest worker stored)."""
    INGESTS.inc()
    INGESTED_TESTS.inc(tests)
    INGEST_DURATION.observe(seconds)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_ENV) or None


def exposition() -> tuple[bytes, str]:
    """The current samples in Prometheus' text format, and its content type."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def forget_this_process() -> None:
    """A worker that stops drops its live gauges from the multiprocess totals."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
