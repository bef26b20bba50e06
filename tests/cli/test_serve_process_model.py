"""``playdeck serve``'s process model, piece by piece; tests/deploy/test_serve.py runs it whole."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from fastapi import FastAPI

from playdeck.cli.serve import _check_workers, shared_metrics_dir, worker_app
from playdeck.observability.logging import JsonFormatter
from playdeck.observability.metrics import MULTIPROCESS_ENV
from playdeck.settings import Settings

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"


def test_several_workers_with_auth_need_redis(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(typer.Exit) as refused:
        _check_workers(make_settings(require_auth=True, secret_key=SECRET), 2)
    assert refused.value.exit_code == 2
    _check_workers(make_settings(require_auth=True, secret_key=SECRET), 1)
    _check_workers(
        make_settings(require_auth=True, secret_key=SECRET, redis_url="redis://127.0.0.1/9"), 4
    )


def test_several_workers_without_auth_only_warn(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    _check_workers(make_settings(), 3)
    assert "rate limits are counted per worker" in caplog.text


def test_workers_get_a_fresh_metrics_directory_removed_afterwards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROCESS_ENV, raising=False)
    with shared_metrics_dir():
        path = Path(os.environ[MULTIPROCESS_ENV])
        assert path.is_dir() and not any(path.iterdir())
    assert MULTIPROCESS_ENV not in os.environ
    assert not path.exists()


def test_an_operators_metrics_directory_is_emptied_of_old_samples(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("not ours")
    monkeypatch.setenv(MULTIPROCESS_ENV, str(tmp_path))
    with shared_metrics_dir():
        assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert os.environ[MULTIPROCESS_ENV] == str(tmp_path)  # the operator's setting stays


def test_a_worker_builds_its_app_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYDECK_DATABASE_URL", database_url)
    monkeypatch.setenv("PLAYDECK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PLAYDECK_LOG_FORMAT", "json")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # the worker configures logging for itself
    try:
        app = worker_app()
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    try:
        assert isinstance(app, FastAPI)
        assert app.state.settings.database_url == database_url
    finally:
        app.state.engine.dispose()
