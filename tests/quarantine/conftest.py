from __future__ import annotations

import pytest
from sqlalchemy import Engine

from playdeck.settings import Settings
from playdeck.storage.filesystem import FilesystemBlobStore
from tests.fixtures.runs import MakeRun, run_factory


@pytest.fixture
def make_run(engine: Engine, settings: Settings) -> MakeRun:
    return run_factory(engine, FilesystemBlobStore(settings.files_dir))
