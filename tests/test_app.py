"""What ``create_app``'s lifespan does around serving (its parts are tested with their domains)."""

from __future__ import annotations

import gc

from fastapi import FastAPI
from fastapi.testclient import TestClient

from playdeck.app import YOUNG_COLLECTION_THRESHOLD


def test_serving_freezes_the_startup_heap_and_shutdown_releases_it(app: FastAPI) -> None:
    before = gc.get_threshold()
    with TestClient(app):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *before[1:])
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
