"""Small JUnit reports for the tests of runs in parts: each test named, passed or failed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

from fastapi.testclient import TestClient

PASS, FAIL, SKIP = "passed", "failed", "skipped"


def junit(tests: Mapping[str, str], suite: str = "shop") -> bytes:
    """A JUnit XML report of ``tests`` (title -> outcome), all in file ``suite``."""
    cases = []
    for title, outcome in tests.items():
        body = {FAIL: '<failure message="boom">boom</failure>', SKIP: "<skipped/>"}.get(outcome, "")
        cases.append(
            f"<testcase classname={quoteattr(suite)} name={quoteattr(title)}>{body}</testcase>"
        )
    return (
        f'<?xml version="1.0"?><testsuite name={quoteattr(suite)} tests="{len(cases)}">'
        + "".join(cases)
        + "</testsuite>"
    ).encode()


def upload(
    client: TestClient,
    tests: Mapping[str, str],
    *,
    project: str = "shop",
    idempotency_key: str | None = None,
    **fields: str,
) -> Any:
    """``POST /api/test-runs/upload`` of a JUnit report with form ``fields`` (runKey, shard)."""
    return client.post(
        "/api/test-runs/upload",
        data={"projectName": project, **fields},
        files={"file": ("junit.xml", junit(tests), "application/xml")},
        headers={"Idempotency-Key": idempotency_key} if idempotency_key else {},
    )


def run_of(client: TestClient, response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body = response.json()
    detail = client.get(f"/api/test-runs/{body['testRunId']}")
    assert detail.status_code == 200, detail.text
    result: dict[str, Any] = detail.json()
    return result


def upload_with_reports(
    client: TestClient,
    tests: Mapping[str, str],
    reports: Sequence[tuple[str, bytes]],
    *,
    project: str = "shop",
    path: str = "/api/test-runs/upload",
    **fields: str,
) -> Any:
    """``POST`` to ``path`` (the upload endpoint, or a live part's ``results``) in the
    Playwright reporter's form (``testRun``, ``testCases``), ``reports`` (type, the HTML of its
    ``index.html``) as ``report_<type>`` parts: the form that carries report bundles."""
    cases = [
        {"title": title, "location": "tests/shop.spec.js:1:1", "status": outcome, "duration": 1}
        for title, outcome in tests.items()
    ]
    test_run = {"status": "passed", "startTime": "2026-12-01T00:00:00Z", "duration": 1}
    return client.post(
        path,
        data={
            "projectName": project,
            "testRun": json.dumps(test_run),
            "testCases": json.dumps(cases),
            **fields,
        },
        files=[(f"report_{kind}", ("index.html", html, "text/html")) for kind, html in reports],
    )
