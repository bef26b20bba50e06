"""``playdeck serve``: prepare once (data directory, migrations, first admin), then serve with
one process or uvicorn's N worker processes."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import typer
import uvicorn
from fastapi import FastAPI

from playdeck.app import create_app
from playdeck.cli.config import CONFIGURATION_EXIT_CODE, fail, load_settings
from playdeck.observability.logging import configure_logging
from playdeck.observability.metrics import MULTIPROCESS_ENV
from playdeck.settings import Settings
from playdeck.system.startup import StartupError, log_configuration, prepare

logger = logging.getLogger("playdeck.serve")
WORKER_STARTUP_SECONDS = 60


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn imports this by name in each worker)."""
    settings = Settings()  # the parent validated the same environment
    configure_logging(level=settings.log_level, log_format=settings.log_format)
    return create_app(settings)


@contextmanager
def shared_metrics_dir() -> Iterator[None]:
    """Workers write their metrics to files here and any worker's /metrics adds them up."""
    if os.environ.get(MULTIPROCESS_ENV):
        path = os.environ[MULTIPROCESS_ENV]
        for stale in os.listdir(path):  # samples from a previous start would be counted again
            if stale.endswith(".db"):
                os.unlink(os.path.join(path, stale))
        yield
        return
    path = tempfile.mkdtemp(prefix="playdeck-metrics-")
    os.environ[MULTIPROCESS_ENV] = path
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_ENV]
        shutil.rmtree(path, ignore_errors=True)


def _check_workers(settings: Settings, workers: int) -> None:
    if workers == 1 or settings.redis_url:
        return
    if settings.require_auth:
        raise fail(
            f"--workers {workers} needs PLAYDECK_REDIS_URL: without Redis every worker keeps "
            "its own sign-in rate limits and lockout counters",
            code=CONFIGURATION_EXIT_CODE,
        )
    logger.warning(
        "%d workers without PLAYDECK_REDIS_URL: rate limits are counted per worker "
        "(harmless while authentication is off)",
        workers,
    )


def serve(
    host: str | None = typer.Option(None, help="Listen address (default PLAYDECK_HOST)."),
    port: int | None = typer.Option(None, help="Port (default PLAYDECK_PORT, 8001)."),
    workers: int = typer.Option(
        1, min=1, help="Worker processes (uvicorn's process model); more than 1 needs Redis."
    ),
) -> None:
    """Apply database migrations, then run the server."""
    settings = load_settings()
    if host:
        settings.host = host
        os.environ["PLAYDECK_HOST"] = host  # workers read the same settings from the environment
    if port:
        settings.port = port
        os.environ["PLAYDECK_PORT"] = str(port)
    configure_logging(level=settings.log_level, log_format=settings.log_format)
    _check_workers(settings, workers)
    try:
        prepare(settings)
    except StartupError as exc:
        raise fail(str(exc)) from None
    log_configuration(settings, workers=workers)
    options = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": None,  # configure_logging did it; uvicorn's lines share our format
        "access_log": False,  # the request middleware logs each request with its id
        "proxy_headers": False,  # X-Forwarded-* is judged against PLAYDECK_TRUSTED_PROXIES
        "server_header": False,
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]
        return
    with shared_metrics_dir():
        uvicorn.run(
            "playdeck.cli.serve:worker_app",
            factory=True,
            workers=workers,
            # A worker imports the whole app before it can answer the supervisor's ping; on a
            # busy machine that takes longer than uvicorn's 5 s default, and it is restarted.
            timeout_worker_healthcheck=WORKER_STARTUP_SECONDS,
            **options,  # type: ignore[arg-type]
        )
