"""Playwright blob reports (``--reporter=blob``), from the real shards in
``tests/data/client-suite/blob`` (``scripts/fixtures/client_suite.sh``)."""

from __future__ import annotations

import io
import os
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playdeck.ingest.merge import merge_runs
from playdeck.ingest.parsers import registry
from playdeck.ingest.parsers.blob import FORMAT, parse_blob_events
from playdeck.ingest.parsers.playwright_json import parse_playwright_json
from playdeck.ingest.records import ReportFormatError, RunRecord
from playdeck.models import Attachment, Attempt, Result, Run, Test

SUITE = Path(__file__).parents[1] / "data" / "client-suite"
SHARDS = [SUITE / "blob" / "report-1.zip", SUITE / "blob" / "report-2.zip"]


def _events(shard: Path) -> bytes:
    with zipfile.ZipFile(shard) as archive:
        return archive.read("report.jsonl")


def _lines(data: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def _jsonl(events: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(e) + b"\n" for e in events)


def _both_shards() -> RunRecord:
    return merge_runs([parse_blob_events(_events(s)) for s in SHARDS])


def _summary(run: RunRecord) -> dict[str, Any]:
    return {
        t.key: (
            t.outcome,
            [(a.retry, a.status) for a in t.attempts],
            t.tags,
            t.location,
        )
        for t in run.tests
    }


def test_two_shards_hold_the_same_tests_as_the_json_report_of_the_suite() -> None:
    blob = _both_shards()
    report = parse_playwright_json(orjson.loads((SUITE / "report.json").read_bytes()))

    # Same keys (file relative to rootDir, project, describe path, title), outcomes, retries,
    # tags and locations as Playwright's own JSON report of the same suite.
    assert _summary(blob) == _summary(report)
    assert Counter(t.outcome for t in blob.tests) == {
        "passed": 4,
        "failed": 2,
        "flaky": 2,
        "skipped": 2,
    }
    assert {t.browser_project for t in blob.tests} == {"desktop", "mobile"}


def test_blob_attempts_keep_durations_output_steps_and_attachments() -> None:
    tests = {(t.browser_project, t.title_path[-1]): t for t in _both_shards().tests}
    flaky = tests[("desktop", "recovers on retry")]
    first, second = flaky.attempts
    assert first.status == "failed" and second.status == "passed"
    assert first.duration_ms and second.duration_ms
    assert flaky.duration_ms == first.duration_ms + second.duration_ms
    assert {a.name for a in first.attachments} == {
        "attempt-log",
        "screenshot",
        "error-context",
        "trace",
    }
    assert [a.body for a in second.attachments] == [b"attempt 1\n"]
    with zipfile.ZipFile(SHARDS[0]) as archive:
        names = set(archive.namelist())
    shard_of_desktop = [a.path for a in first.attachments if a.path]
    assert shard_of_desktop and all(p in names for p in shard_of_desktop)

    cart = tests[("desktop", "shows the total")]
    assert cart.tags == ["@smoke", "@cart"]
    assert cart.attempts[0].stdout == "opening the cart page\n"
    assert cart.attempts[0].stderr == "cart warning on stderr\n"
    assert [s["title"] for s in cart.attempts[0].steps] == ["open the cart"]
    assert {"type": "issue", "description": "https://example.invalid/issues/7"} in cart.annotations
    failed = tests[("mobile", "applies the discount")]
    assert failed.error_message is not None and "\x1b" not in failed.error_message
    assert "Total: 37" in failed.error_message


def test_blob_run_metadata_names_the_shard_and_the_format_version() -> None:
    run = parse_blob_events(_events(SHARDS[1]))
    assert run.source_format == "playwright-blob"
    playwright = run.metadata["playwright"]
    assert playwright["shard"] == {"current": 2, "total": 2}
    assert playwright["blob_version"] == 2
    assert playwright["version"] == "1.65.1"


def test_version_one_blob_with_suites_and_tests_lists_reads_the_same() -> None:
    """Version 1 nested ``suites`` and ``tests`` (no ``entries``) and sent attachments with
    ``onTestEnd``; merge-reports upgrades it the same way."""

    def downgrade(suite: dict[str, Any]) -> dict[str, Any]:
        entries = suite.pop("entries")
        suite["suites"] = [downgrade(e) for e in entries if "testId" not in e]
        suite["tests"] = [e for e in entries if "testId" in e]
        return suite

    events = _lines(_events(SHARDS[0]))
    attached: dict[str, list[Any]] = {}
    old: list[dict[str, Any]] = []
    for event in events:
        method, params = event["method"], event.get("params") or {}
        if method == "onBlobReportMetadata":
            params["version"] = 1
        elif method == "onProject":
            params["project"]["suites"] = [downgrade(s) for s in params["project"]["suites"]]
        elif method == "onAttach":
            attached.setdefault(params["resultId"], []).extend(params["attachments"])
            continue
        elif method == "onTestEnd":
            params["result"]["attachments"] = attached.pop(params["result"]["id"], [])
        old.append(event)

    assert _summary(parse_blob_events(_jsonl(old))) == _summary(
        parse_blob_events(_events(SHARDS[0]))
    )


@pytest.mark.parametrize("version", [3, 0, "2"])
def test_unknown_blob_version_is_refused(version: object) -> None:
    events = _lines(_events(SHARDS[0]))
    events[0]["params"]["version"] = version
    with pytest.raises(ReportFormatError, match="version"):
        parse_blob_events(_jsonl(events))


def test_blob_events_must_start_with_the_metadata() -> None:
    events = _lines(_events(SHARDS[0]))[1:]
    with pytest.raises(ReportFormatError, match="starts with onBlobReportMetadata"):
        parse_blob_events(_jsonl(events))


def test_registry_recognises_the_blob_event_log() -> None:
    data = _events(SHARDS[0])
    assert registry.detect("report.jsonl", data[:512]) is FORMAT
    assert registry.claims("report.jsonl", FORMAT.in_zip)


def _count(db: Session, model: type[Any]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def _outcomes(db: Session, run_id: int) -> Counter[str]:
    return Counter(db.scalars(select(Result.outcome).where(Result.run_id == run_id)))


def test_upload_of_several_blob_shards_is_one_run_with_their_attachments(
    client: TestClient, db: Session
) -> None:
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "sharded"},
        files=[("file", (s.name, s.read_bytes(), "application/zip")) for s in SHARDS],
    )
    assert response.status_code == 201, response.text
    run = db.get(Run, response.json()["testRunId"])
    assert run is not None
    assert (run.total, run.passed, run.failed, run.flaky, run.skipped) == (10, 4, 2, 2, 2)
    assert run.source_format == "playwright-blob"
    assert _count(db, Test) == 10
    # Every attempt of both shards, with every file its report names.
    attached = [
        a
        for s in SHARDS
        for e in _lines(_events(s))
        if e["method"] == "onAttach"
        for a in e["params"]["attachments"]
    ]
    assert _count(db, Attachment) == len(attached) > 0
    assert _count(db, Attempt) == 14
    assert "missing_attachments" not in run.meta


def test_one_zip_holding_the_shard_zips_is_the_same_run(client: TestClient, db: Session) -> None:
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        for shard in SHARDS:
            archive.writestr(f"all-blob-reports/{shard.name}", shard.read_bytes())
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "bundled"},
        files={"file": ("blobs.zip", bundle.getvalue(), "application/zip")},
    )
    assert response.status_code == 201, response.text
    run_id = response.json()["testRunId"]
    assert _outcomes(db, run_id) == {"passed": 4, "failed": 2, "flaky": 2, "skipped": 2}
    assert _count(db, Attachment) > 0


def test_blob_of_an_unknown_version_is_a_422_problem(client: TestClient, db: Session) -> None:
    events = _lines(_events(SHARDS[0]))
    events[0]["params"]["version"] = 99
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("report.jsonl", _jsonl(events))
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "future"},
        files={"file": ("report-1.zip", archive.getvalue(), "application/zip")},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert "blob report format version 99 is not supported" in detail
    assert "a newer Playwright wrote it" in detail
    assert _count(db, Run) == 0


def test_shard_zips_share_one_unpack_budget(
    make_settings: Any, make_client: Any, db: Session
) -> None:
    """Each zip fits ``PLAYDECK_MAX_UNPACKED_MB`` alone; together they do not: 413, nothing kept."""
    settings = make_settings(max_unpacked_mb=1)
    client = make_client(settings)
    zips = []
    for shard in SHARDS:
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as out:
            out.writestr("report.jsonl", _events(shard))
            out.writestr("resources/padding.dat", os.urandom(600 * 1024))
        zips.append(("file", (shard.name, archive.getvalue(), "application/zip")))

    alone = client.post("/api/test-runs/upload", data={"projectName": "a"}, files=zips[:1])
    together = client.post("/api/test-runs/upload", data={"projectName": "b"}, files=zips)

    assert alone.status_code == 201, alone.text
    assert together.status_code == 413, together.text
    assert "unpack to more than" in together.json()["detail"]
    assert _count(db, Run) == 1
