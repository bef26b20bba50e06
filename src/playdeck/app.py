"""Application factory: ``create_app(settings)`` wires database, storage, routers and errors."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.datastructures import State

from playdeck import __version__
from playdeck.account.endpoints import router as account_router
from playdeck.apikeys.endpoints import router as api_keys_router
from playdeck.audit.endpoints import router as audit_router
from playdeck.auth.bootstrap import ensure_initial_admin, no_users_yet
from playdeck.auth.endpoints import legacy_router as auth_legacy_router
from playdeck.auth.endpoints import router as auth_router
from playdeck.auth.probing import NotFoundProbeMiddleware
from playdeck.auth.rate_limit import RateLimits
from playdeck.auth.setup_token import SetupToken
from playdeck.db import make_engine, make_sessionmaker, timeouts_of, writer
from playdeck.ingest.endpoints import is_report_path
from playdeck.ingest.endpoints import router as ingest_router
from playdeck.ingest.live.endpoints import router as live_router
from playdeck.ingest.live.sweeper import PeriodicRunSweep
from playdeck.ingest.pool import IngestPool
from playdeck.invitations.endpoints import router as invitations_router
from playdeck.kit.compression import CompressionMiddleware
from playdeck.kit.json_guard import DuplicateJsonKeysMiddleware
from playdeck.kit.limits import BodyReadTimeoutMiddleware, BodySizeLimitMiddleware
from playdeck.members.endpoints import legacy_router as members_legacy_router
from playdeck.members.endpoints import router as members_router
from playdeck.observability.endpoints import router as metrics_router
from playdeck.observability.metrics import forget_this_process, instrument_engine
from playdeck.observability.middleware import RequestObservabilityMiddleware
from playdeck.problems import install_error_handlers
from playdeck.projects.endpoints import router as projects_router
from playdeck.quarantine.endpoints import router as quarantine_router
from playdeck.retention.endpoints import router as retention_router
from playdeck.retention.scheduler import RetentionScheduler
from playdeck.runs.endpoints import router as runs_router
from playdeck.runs.files.endpoints import STORED_FILE_PATHS
from playdeck.service_accounts.endpoints import global_router as global_service_accounts_router
from playdeck.service_accounts.endpoints import project_router as service_accounts_router
from playdeck.settings import Settings, get_settings
from playdeck.sso.client import ProviderClients
from playdeck.storage.filesystem import FilesystemBlobStore
from playdeck.storage.sweeper import PeriodicSweep
from playdeck.system.endpoints import router as system_router
from playdeck.traces.endpoints import router as traces_router
from playdeck.twofactor.endpoints import router as two_factor_router
from playdeck.users.endpoints import legacy_router as users_legacy_router
from playdeck.users.endpoints import router as users_admin_router
from playdeck.web.router import install_web

logger = logging.getLogger("playdeck")

# Containers allocated (net) before a young collection, instead of CPython's 700: a 500-row page
# builds tens of thousands, and at 700 every page ran a dozen collections that each rescanned it
# and promoted it towards the old generation (measured in docs/performance.md).
YOUNG_COLLECTION_THRESHOLD = 50_000


@contextmanager
def settled_heap() -> Iterator[None]:
    """While the app serves: what startup built (modules, models, routes, the engine) is frozen
    out of the cyclic collector's reach, so that a full collection scans only what requests
    made since; before, each one scanned the whole heap and paused a request by 50-250 ms.

    Only the outermost settles: when the heap is already frozen (another app serving in this
    process, or a test session that settled it once for all its apps), this leaves it to its
    owner; unfreezing at this app's shutdown would thaw the heap under the other, and a full
    collection per app costs a process that builds many (~0.2 s each in the test suite)."""
    if gc.get_freeze_count():
        yield
        return
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def warn_about_shared_state(settings: Settings) -> None:
    """A PostgreSQL database is how Playdeck runs as several instances; without Redis each
    instance would count rate limits and unknown-name lockouts on its own."""
    if settings.redis_url is None and not settings.effective_database_url.startswith("sqlite"):
        logger.warning(
            "PLAYDECK_REDIS_URL is not set: with several instances on this database, each "
            "counts rate limits and lockouts of unknown names on its own (limits multiply by "
            "the number of instances). Set PLAYDECK_REDIS_URL to share them."
        )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine: Engine = app.state.engine
    warn_about_shared_state(settings)
    ensure_initial_admin(app.state.sessionmaker, settings)
    if settings.require_auth and no_users_yet(app.state.sessionmaker):
        app.state.setup_token.announce()
    sweeper = None
    if settings.storage_sweep_seconds:
        sweeper = PeriodicSweep(
            engine, app.state.blob_store, interval_seconds=settings.storage_sweep_seconds
        )
        sweeper.start()
    retention = None
    if settings.retention_interval_seconds > 0:
        retention = RetentionScheduler(
            engine,
            app.state.blob_store,
            settings.data_dir,
            interval_seconds=settings.retention_interval_seconds,
            batch_size=settings.retention_batch_size,
        )
        retention.start()
    runs_sweep = None
    if settings.run_sweep_seconds > 0:
        runs_sweep = PeriodicRunSweep(
            engine,
            interval_seconds=settings.run_sweep_seconds,
            heartbeat_seconds=settings.live_heartbeat_seconds,
            shard_wait_seconds=settings.shard_wait_seconds,
        )
        runs_sweep.start()
    if settings.ingest_in_worker_process:
        await app.state.ingest_pool.start()
    with settled_heap():
        yield
    app.state.ingest_pool.close()
    if runs_sweep is not None:
        runs_sweep.stop()
    if retention is not None:
        retention.stop()
    if sweeper is not None:
        sweeper.stop()
    engine.dispose()
    forget_this_process()


def install_instance(app: FastAPI, settings: Settings) -> None:
    """A fresh ``app.state``: everything the app holds for one running instance (settings,
    engine, stores, rate limits, setup token, SSO clients, ingest pool); the lifespan reads it
    there. ``create_app`` calls it once. Routes and middleware hold none of it, so the test
    suite gives an app it built for equal settings (but the data directory) a new instance
    before serving another test with it, instead of building every route again (~0.3 s)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url, timeouts_of(settings))
    instrument_engine(engine)
    app.state = State()
    app.state.settings = settings
    app.state.engine = engine
    app.state.write_engine = writer(engine)
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.blob_store = FilesystemBlobStore(
        settings.files_dir, grace_seconds=settings.storage_grace_seconds
    )
    app.state.rate_limits = RateLimits.from_settings(settings)
    app.state.setup_token = SetupToken(
        settings.secret_key.get_secret_value() if settings.secret_key else None
    )
    app.state.sso_clients = ProviderClients()  # OpenID providers' metadata and keys
    app.state.ingest_pool = IngestPool(settings)  # no process until started or used


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Playdeck",
        version=__version__,
        description="Self-hosted dashboard for automated test results.",
        lifespan=lifespan,
        # Served by web/api_docs.py instead: local assets, a CSP, and a permission.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    install_instance(app, settings)

    install_error_handlers(app)
    app.add_middleware(NotFoundProbeMiddleware, trusted_proxies=settings.trusted_proxies)
    # Innermost first: the duplicate-key check reads bodies the size and time limits bound.
    app.add_middleware(DuplicateJsonKeysMiddleware, skip_path=is_report_path)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(
        BodyReadTimeoutMiddleware,
        timeout=settings.body_timeout_seconds,
        min_rate=settings.body_min_rate_kib * 1024,
    )

    app.include_router(system_router)
    app.include_router(metrics_router)
    app.include_router(projects_router)
    app.include_router(retention_router)
    app.include_router(runs_router)
    app.include_router(ingest_router)
    app.include_router(live_router)
    app.include_router(auth_router)
    app.include_router(auth_legacy_router)
    app.include_router(account_router)
    app.include_router(users_admin_router)
    app.include_router(users_legacy_router)
    app.include_router(members_router)
    app.include_router(members_legacy_router)
    app.include_router(audit_router)
    app.include_router(api_keys_router)
    app.include_router(invitations_router)
    app.include_router(service_accounts_router)
    app.include_router(global_service_accounts_router)
    app.include_router(traces_router)
    app.include_router(quarantine_router)
    app.include_router(two_factor_router)
    install_web(app)
    app.add_middleware(CompressionMiddleware, skip_prefixes=STORED_FILE_PATHS)
    # Outermost of ours: every response, error pages included, carries the request id.
    app.add_middleware(RequestObservabilityMiddleware, trusted_proxies=settings.trusted_proxies)
    return app
