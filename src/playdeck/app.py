"""Application factory: ``create_app(settings)`` wires database, storage, routers and errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from playdeck import __version__
from playdeck.db import make_engine, make_sessionmaker
from playdeck.errors import install_error_handlers
from playdeck.ingest.endpoints import router as ingest_router
from playdeck.kit.limits import BodySizeLimitMiddleware
from playdeck.projects.endpoints import router as projects_router
from playdeck.runs.endpoints import router as runs_router
from playdeck.settings import Settings, get_settings
from playdeck.storage.filesystem import FilesystemBlobStore
from playdeck.system.endpoints import router as system_router

logger = logging.getLogger("playdeck")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="Playdeck",
        version=__version__,
        description="Self-hosted dashboard for automated test results.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.blob_store = FilesystemBlobStore(settings.files_dir)

    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_upload_bytes)

    app.include_router(system_router)
    app.include_router(projects_router)
    app.include_router(runs_router)
    app.include_router(ingest_router)
    return app
