from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from playdeck.ingest.records import AttachmentRecord

from .conftest import MakeRun, case


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_failures_come_first_then_by_id(client: TestClient, make_run: MakeRun) -> None:
    run_id = make_run(
        [
            case("passes"),
            case("skips", "skipped"),
            case("flakes", "flaky"),
            case("fails", "failed"),
            case("times out", "timedout"),
            case("also fails", "failed"),
        ]
    )
    body = client.get(f"/api/test-runs/{run_id}/tests").json()
    titles = [item["test"]["title"] for item in body["items"]]
    assert titles == ["fails", "also fails", "times out", "flakes", "passes", "skips"]
    assert body["next_cursor"] is None


def test_a_result_carries_its_test_attempts_and_attachment_links(
    client: TestClient, make_run: MakeRun
) -> None:
    shot = AttachmentRecord(name="screenshot", content_type="image/png", body=b"\x89PNG...")
    run_id = make_run(
        [
            case(
                "checkout",
                "flaky",
                file="tests/shop.spec.ts",
                describe=["Shop", "Cart"],
                browser="firefox",
                duration_ms=250,
                error="Expected 2, got 3",
                attachments=[shot],
                location="tests/shop.spec.ts:12:5",
                tags=["@smoke"],
                annotations=[{"type": "issue", "description": "#12"}],
            )
        ]
    )
    [item] = client.get(f"/api/test-runs/{run_id}/tests").json()["items"]
    assert item["test"] == {
        "id": item["test"]["id"],
        "file": "tests/shop.spec.ts",
        "title": "checkout",
        "title_path": ["Shop", "Cart", "checkout"],
        "full_title": "Shop › Cart › checkout",
        "browser_project": "firefox",
    }
    assert item["outcome"] == "flaky"
    assert item["expected_status"] == "passed"
    assert item["retry_count"] == 1
    assert item["location"] == "tests/shop.spec.ts:12:5"
    assert item["tags"] == ["@smoke"]
    assert item["annotations"] == [{"type": "issue", "description": "#12"}]
    first, second = item["attempts"]
    assert (first["retry"], first["status"], first["error_message"]) == (
        0,
        "failed",
        "Expected 2, got 3",
    )
    assert first["attachments"] == []
    assert first["stdout"] == "attempt 0\n"
    assert (second["retry"], second["status"], second["duration_ms"]) == (1, "passed", 250)
    [attachment] = second["attachments"]
    assert attachment["name"] == "screenshot"
    assert attachment["content_type"] == "image/png"
    assert attachment["size"] == len(b"\x89PNG...")
    assert attachment["url"] == f"/api/attachments/{attachment['id']}"
    assert client.get(attachment["url"]).content == b"\x89PNG..."


def test_outcome_filter_takes_a_comma_list(client: TestClient, make_run: MakeRun) -> None:
    run_id = make_run([case("a"), case("b", "failed"), case("c", "flaky"), case("d", "skipped")])

    def titles(outcome: str) -> list[str]:
        response = client.get(f"/api/test-runs/{run_id}/tests", params={"outcome": outcome})
        assert response.status_code == 200
        return [i["test"]["title"] for i in response.json()["items"]]

    assert titles("failed,flaky") == ["b", "c"]
    assert titles("skipped") == ["d"]
    response = client.get(f"/api/test-runs/{run_id}/tests", params={"outcome": "failed,nope"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_outcome"


def test_search_matches_title_or_file_and_treats_wildcards_literally(
    client: TestClient, make_run: MakeRun
) -> None:
    run_id = make_run(
        [
            case("adds 100% discount", file="tests/cart.spec.ts"),
            case("adds 1000 items", file="tests/cart.spec.ts"),
            case("logs in", file="tests/auth_flow.spec.ts", describe=["Login"]),
            case("logs out", file="tests/authXflow.spec.ts"),
        ]
    )

    def titles(q: str) -> list[str]:
        response = client.get(f"/api/test-runs/{run_id}/tests", params={"q": q})
        assert response.status_code == 200
        return sorted(i["test"]["title"] for i in response.json()["items"])

    assert titles("100%") == ["adds 100% discount"]
    assert titles("%") == ["adds 100% discount"]
    assert titles("auth_flow") == ["logs in"]
    assert titles("LOGIN") == ["logs in"]  # describe blocks are part of the full title
    assert titles("cart.spec") == ["adds 100% discount", "adds 1000 items"]
    assert titles("nothing like this") == []


def test_pages_follow_the_cursor_without_gaps_or_repeats(
    client: TestClient, make_run: MakeRun
) -> None:
    outcomes = ["passed", "failed", "skipped", "flaky", "failed", "passed", "timedout"] * 3
    run_id = make_run([case(f"t{i}", o) for i, o in enumerate(outcomes)])
    everything = client.get(f"/api/test-runs/{run_id}/tests", params={"limit": 100}).json()
    expected = [item["id"] for item in everything["items"]]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"/api/test-runs/{run_id}/tests", params=params).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == expected
    assert len(seen) == len(outcomes)
    bad = client.get(f"/api/test-runs/{run_id}/tests", params={"cursor": "WyJhIiwxXQ"})
    assert bad.status_code == 422  # ["a", 1]: a rank must be an integer


def test_page_queries_do_not_grow_with_the_page(
    client: TestClient, make_run: MakeRun, engine: Engine
) -> None:
    shot = AttachmentRecord(name="s.png", content_type="image/png", body=b"png")
    small = make_run([case("a", "failed", attachments=[shot])])
    big = make_run([case(f"t{i}", "failed", attachments=[shot]) for i in range(30)])
    app_engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    with count_statements(app_engine) as one:
        assert len(client.get(f"/api/test-runs/{small}/tests").json()["items"]) == 1
    with count_statements(app_engine) as thirty:
        items = client.get(f"/api/test-runs/{big}/tests").json()["items"]
    assert len(items) == 30
    assert all(len(i["attempts"]) == 2 and i["attempts"][-1]["attachments"] for i in items)
    assert len(thirty) == len(one)
    del engine


def test_unknown_run_has_no_tests(client: TestClient) -> None:
    response = client.get("/api/test-runs/424242/tests")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
