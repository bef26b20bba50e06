"""Retention against a project history spread over 120 days: what is kept, what is deleted,
files gone from disk, pinned runs untouched, and ingest going on while the prune runs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from playdeck.audit.service import Actor
from playdeck.kit.clock import utcnow
from playdeck.models import Attachment, AuditEvent, Project, Report, Run
from playdeck.retention.job import prune
from playdeck.storage.filesystem import FilesystemBlobStore
from tests.fixtures.runs import results_off_their_run

from .support import DAYS, SHARED_SCREENSHOT, StoredRun, on_disk, own_files, sha, store_run

DATA = Path(__file__).parents[1] / "data"
POLICY = {
    "keep_days": 30,
    "files_days": 7,
    "branch_rules": [
        {"branch": "main", "keep_days": 90, "files_days": 14},
        {"branch": "release/*", "keep_last": 3},
    ],
}
PINNED_AGES = (100, 60, 20)  # days: a main run past 90, feature runs past 30 and past 7


@dataclass
class World:
    server: Any  # conftest.LiveServer
    http: httpx.Client
    now: datetime
    runs: list[StoredRun]
    pinned: set[int]
    other: list[int]  # runs of a project without a policy
    files_dir: Path


def _expected(run: StoredRun, pinned: set[int]) -> str:
    """``keep``, ``files`` (results kept, files removed) or ``delete``: the issue's rules, written
    out independently of ``retention.plan``."""
    if run.id in pinned:
        return "keep"
    days = run.age / timedelta(days=1)
    if run.branch == "main":
        return "delete" if days > 90 else "files" if days > 14 else "keep"
    if run.branch.startswith("release/"):
        return "keep"  # decided by position below
    return "delete" if days > 30 else "files" if days > 7 else "keep"


@pytest.fixture
def world(make_live_server: Callable[..., Any], engine: Engine) -> Iterator[World]:
    server = make_live_server(retention_interval_seconds=0)
    files_dir = server.settings.files_dir
    now = utcnow()
    runs: list[StoredRun] = []

    def add(branch: str, age: timedelta, project: str = "Shop") -> int:
        tag = f"{project}-{branch}-{age.total_seconds()}"
        run_id = store_run(
            engine, files_dir, project=project, branch=branch, started_at=now - age, tag=tag
        )
        if project == "Shop":
            runs.append(StoredRun(id=run_id, branch=branch, age=age, files=own_files(tag)))
        return run_id

    for day in range(DAYS):
        add("main", timedelta(days=day, hours=1))
        add("feature/search", timedelta(days=day, hours=2))
    for day in (10, 20, 30, 40, 50):
        add("release/1.0", timedelta(days=day, hours=3))
    other = [
        add("main", timedelta(days=day, hours=4), project="Other") for day in range(0, 120, 12)
    ]

    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.put("/api/projects/shop/retention", json=POLICY).status_code == 200
        pinned = set()
        for age, branch in zip(
            PINNED_AGES, ("main", "feature/search", "feature/search"), strict=True
        ):
            run = next(r for r in runs if r.branch == branch and r.age.days == age)
            response = http.put(f"/api/test-runs/{run.id}/pin")
            assert response.status_code == 200 and response.json()["pinned"] is True
            pinned.add(run.id)
        yield World(server, http, now, runs, pinned, other, files_dir)


def _submit(http: httpx.Client, n: int) -> int:
    response = http.post(
        "/api/test-runs/submit",
        params={"projectName": "Shop"},
        content=(DATA / "playwright" / "report.json").read_bytes(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 201, response.text
    run_id: int = response.json()["testRunId"]
    return run_id


def test_prune_keeps_deletes_and_removes_files_by_the_policy(world: World, engine: Engine) -> None:
    store = FilesystemBlobStore(world.files_dir)
    report = prune(engine, store, actor=Actor.system("tests"), now=world.now, batch_size=10)

    release = sorted((r for r in world.runs if r.branch == "release/1.0"), key=lambda r: r.age)
    expected = {r.id: _expected(r, world.pinned) for r in world.runs}
    for run in release[3:]:
        expected[run.id] = "delete"
    with Session(engine) as session:
        remaining = dict(session.execute(select(Run.id, Run.files_pruned_at)).all())
        attachments = set(session.scalars(select(Attachment.run_id)))
        reports = set(session.scalars(select(Report.run_id)))
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.pruned")
        ).all()

    deleted = {i for i, what in expected.items() if what == "delete"}
    files_gone = {i for i, what in expected.items() if what == "files"}
    kept = {i for i, what in expected.items() if what == "keep"}
    assert deleted and files_gone and kept  # every case of the policy is exercised
    assert set(remaining) == (kept | files_gone | set(world.other))
    assert {i for i, at in remaining.items() if at is not None} == files_gone
    assert (kept | set(world.other)) <= attachments and (kept | set(world.other)) <= reports
    assert not (files_gone & attachments) and not (files_gone & reports)
    assert world.pinned <= kept

    for run in world.runs:
        assert all(on_disk(world.files_dir, s) == (run.id in kept) for s in run.files), run
    assert on_disk(world.files_dir, sha(SHARED_SCREENSHOT))  # kept runs still show it

    (shop,) = report.projects
    assert sorted(shop.deleted_runs) == sorted(deleted)
    assert sorted(shop.pruned_files_runs) == sorted(files_gone)
    assert shop.removed_files == sum(len(r.files) for r in world.runs if r.id not in kept)
    (event,) = events
    assert event.details["deleted_runs"] == len(deleted)
    assert event.details["pruned_files_runs"] == len(files_gone)
    assert (event.actor_type, event.actor_name) == ("system", "tests")

    # Applied again: nothing left to do, nothing audited.
    again = prune(engine, store, actor=Actor.system("tests"), now=world.now, batch_size=10)
    assert again.projects == []


def test_flake_counts_after_a_prune_are_over_the_runs_it_kept(world: World, engine: Engine) -> None:
    # A test's results on the default branch are counted by the branch each result carries.
    prune(engine, FilesystemBlobStore(world.files_dir), actor=Actor.system("tests"), now=world.now)
    with Session(engine) as session:
        main_runs = session.scalar(
            select(func.count())
            .select_from(Run)
            .join(Project, Project.id == Run.project_id)
            .where(Project.slug == "shop", Run.branch == "main")
        )
        assert results_off_their_run(session) == []
    assert main_runs is not None and 0 < main_runs < DAYS
    response = world.http.get("/api/projects/shop/tests", params={"days": 365})
    assert response.status_code == 200, response.text
    (test,) = response.json()["items"]
    assert test["flakiness"]["runs"] == main_runs


def test_pinned_runs_keep_their_files_and_unpinned_runs_go(world: World, engine: Engine) -> None:
    store = FilesystemBlobStore(world.files_dir)
    oldest_pinned = max(world.pinned, key=lambda i: next(r.age for r in world.runs if r.id == i))
    response = world.http.delete(f"/api/test-runs/{oldest_pinned}/pin")
    assert response.status_code == 200 and response.json()["pinned"] is False
    prune(engine, store, actor=Actor.system("tests"), now=world.now)
    with Session(engine) as session:
        assert session.get(Run, oldest_pinned) is None
        for run_id in world.pinned - {oldest_pinned}:
            run = session.get(Run, run_id)
            assert run is not None and run.files_pruned_at is None
            count = session.scalar(select(func.count()).where(Attachment.run_id == run_id))
            assert count == 2


def test_a_dry_run_changes_nothing(world: World, engine: Engine) -> None:
    store = FilesystemBlobStore(world.files_dir)
    before = world.http.get("/api/projects/shop/usage").json()
    preview = world.http.get("/api/projects/shop/retention/preview").json()
    report = prune(engine, store, actor=Actor.system("tests"), dry_run=True, now=world.now)
    (shop,) = report.projects
    assert shop.deleted_runs == preview["deleted_runs"] and shop.deleted_runs
    assert shop.pruned_files_runs == preview["pruned_files_runs"]
    assert world.http.get("/api/projects/shop/usage").json() == before
    assert all(on_disk(world.files_dir, s) for r in world.runs for s in r.files)


def test_ingest_goes_on_between_batches_while_a_prune_runs(world: World, engine: Engine) -> None:
    """Each batch is its own short transaction: a submit made while the prune is half-way
    (after a batch committed, before the next) is stored at once, and the prune carries on."""
    store = FilesystemBlobStore(world.files_dir)
    between = threading.Event()
    submitted = threading.Event()
    batches = 0

    def after_batch() -> None:
        nonlocal batches
        batches += 1
        if batches == 3:
            between.set()
            assert submitted.wait(60), "the submit did not finish while the prune waited"

    outcome: dict[str, object] = {}

    def run_prune() -> None:
        try:
            outcome["report"] = prune(
                engine,
                store,
                actor=Actor.system("tests"),
                now=world.now,
                batch_size=5,
                on_batch=after_batch,
            )
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run_prune)
    worker.start()
    assert between.wait(120)
    new_run = _submit(world.http, 1)
    submitted.set()
    # A second submit while the prune runs its remaining batches, unsynchronised.
    another = _submit(world.http, 2)
    worker.join(300)
    assert not worker.is_alive() and "error" not in outcome, outcome
    with Session(engine) as session:
        assert session.get(Run, new_run) is not None
        assert session.get(Run, another) is not None
    assert batches > 3


def test_a_prune_that_fails_half_way_audits_what_it_did(world: World, engine: Engine) -> None:
    store = FilesystemBlobStore(world.files_dir)
    calls = 0

    def fail_after_two_batches() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the disk went away")

    with pytest.raises(RuntimeError):
        prune(
            engine,
            store,
            actor=Actor.system("tests"),
            now=world.now,
            batch_size=5,
            on_batch=fail_after_two_batches,
        )
    with Session(engine) as session:
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.pruned")
        ).all()
        remaining = session.scalar(select(func.count(Run.id)))
    assert event.details["deleted_runs"] == 10  # two committed batches of five
    assert remaining == len(world.runs) + len(world.other) - 10
