"""Small JUnit reports for the tests of runs in parts: each test named, passed or failed."""

from __future__ import annotations

from collections.abc import Mapping
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
