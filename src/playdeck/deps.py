"""Typed FastAPI dependencies shared by every domain's endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from playdeck.db import end_reads, get_session
from playdeck.kit.http import base_url
from playdeck.kit.pagination import MAX_LIMIT
from playdeck.settings import Settings
from playdeck.storage.base import BlobStore


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_blob_store(request: Request) -> BlobStore:
    store: BlobStore = request.app.state.blob_store
    return store


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_upload_session(session: SessionDep) -> Session:
    """The request's session once the caller's credential checks are settled, holding neither a
    transaction nor a pooled connection: for handlers that receive a large body next, so a
    slow or stalled upload cannot hold the database. Declare it *after* the route's
    ``authorize`` parameter (FastAPI resolves dependencies in order)."""
    end_reads(session)
    return session


UploadSessionDep = Annotated[Session, Depends(get_upload_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
BlobStoreDep = Annotated[BlobStore, Depends(get_blob_store)]


def get_base_url(request: Request, settings: SettingsDep) -> str:
    """The base of the links an answer holds (``kit.http.base_url``)."""
    return base_url(request, settings.public_url)


BaseUrlDep = Annotated[str, Depends(get_base_url)]

# How a paged API route asks for a page: the ``next_cursor`` of the page before, and a size
# (here, not in ``kit.pagination``, which services use without the web framework).
CursorQuery = Annotated[str | None, Query(max_length=1000, description="From `next_cursor`.")]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
