"""What ``create_app``'s lifespan does around serving (its parts are tested with their domains)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from playdeck.app import YOUNG_COLLECTION_THRESHOLD, create_app
from playdeck.settings import Settings

# CPython's own young-generation threshold, as a server process starts with it.
CPYTHON_YOUNG_THRESHOLD = 700


@pytest.fixture
def unsettled_heap() -> Iterator[None]:
    """The heap as a server process starts: nothing frozen, CPython's thresholds. The suite
    settles its heap once per session (tests/conftest.py); it is settled again afterwards."""
    settled = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(CPYTHON_YOUNG_THRESHOLD, *settled[1:])
    yield
    gc.set_threshold(*settled)
    gc.collect()
    gc.freeze()


@pytest.mark.usefixtures("unsettled_heap")
def test_serving_freezes_the_startup_heap_and_shutdown_releases_it(app: FastAPI) -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with TestClient(app):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *before[1:])
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


@pytest.mark.usefixtures("unsettled_heap")
def test_a_second_app_leaves_the_heap_to_the_first(settings: Settings) -> None:
    with TestClient(create_app(settings)):
        frozen = gc.get_freeze_count()
        # (Frozen objects still die by reference counting: the count may only fall.)
        with TestClient(create_app(settings)):
            assert gc.get_freeze_count() <= frozen  # the second app froze nothing more
        # Its shutdown did not thaw the heap the first still serves from.
        assert 0 < gc.get_freeze_count() <= frozen
        assert gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD
    assert gc.get_freeze_count() == 0
