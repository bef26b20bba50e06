from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from .conftest import MakeRun, case


def _test_id(client: TestClient, run_id: int, title: str) -> int:
    items = client.get(f"/api/test-runs/{run_id}/tests", params={"q": title}).json()["items"]
    test_id: int = next(i["test"]["id"] for i in items if i["test"]["title"] == title)
    return test_id


def test_a_test_has_a_stable_identity_across_runs(client: TestClient, make_run: MakeRun) -> None:
    first = make_run([case("login", describe=["Auth"], file="tests/auth.spec.ts")], started_at=2)
    second = make_run([case("login", describe=["Auth"], file="tests/auth.spec.ts")], started_at=1)
    test_id = _test_id(client, first, "login")
    assert _test_id(client, second, "login") == test_id
    body = client.get(f"/api/tests/{test_id}").json()
    assert body["id"] == test_id
    assert body["full_title"] == "Auth › login"
    assert body["title_path"] == ["Auth", "login"]
    assert body["file"] == "tests/auth.spec.ts"
    assert body["browser_project"] == "chromium"
    assert body["project"]["slug"] == "demo"


def test_history_lists_the_test_newest_first_with_run_context(
    client: TestClient, make_run: MakeRun
) -> None:
    runs = [
        make_run([case("login", outcome)], started_at=hours, branch=branch, commit_sha=sha)
        for outcome, hours, branch, sha in [
            ("passed", 30, "main", "aaa"),
            ("failed", 20, "main", "bbb"),
            ("flaky", 10, "feature", "ccc"),
        ]
    ]
    make_run([case("other test")], started_at=5)  # not in this test's history
    test_id = _test_id(client, runs[0], "login")
    body = client.get(f"/api/tests/{test_id}/history").json()
    assert [e["run_id"] for e in body["items"]] == list(reversed(runs))
    latest, failed, passed = body["items"]
    assert (latest["outcome"], latest["branch"], latest["commit"]) == ("flaky", "feature", "ccc")
    assert latest["retry_count"] == 1
    assert failed["outcome"] == "failed"
    assert failed["error_message"] == "login failed"
    assert passed["error_message"] is None
    assert passed["duration_ms"] == 100
    assert body["next_cursor"] is None


def test_history_pages_follow_the_cursor(client: TestClient, make_run: MakeRun) -> None:
    runs = [make_run([case("t")], started_at=h) for h in range(7, 0, -1)]
    test_id = _test_id(client, runs[0], "t")
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"/api/tests/{test_id}/history", params=params).json()
        seen.extend(e["run_id"] for e in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(runs))


def test_unknown_tests_and_bad_values(client: TestClient) -> None:
    assert client.get("/api/tests/777777").status_code == 404
    assert client.get("/api/tests/777777/history").status_code == 404
    assert client.get("/api/tests/abc").status_code == 422
    assert client.get("/api/tests/1/history", params={"limit": 0}).status_code == 422


def test_project_tests_are_searchable_with_last_outcome_and_flakiness(
    client: TestClient, make_run: MakeRun
) -> None:
    make_run([case("checkout"), case("login"), case("search_100%")], started_at=3)
    make_run([case("checkout", "flaky"), case("login", "failed")], started_at=2, commit_sha="c2")
    make_run([case("checkout"), case("login")], started_at=1, commit_sha="c2")
    make_run([case("checkout")], project="Other", started_at=1)

    body = client.get("/api/projects/demo/tests").json()
    by_title = {i["title"]: i for i in body["items"]}
    assert list(by_title) == ["checkout", "login", "search_100%"]  # by full title
    assert body["days"] == 30
    assert by_title["checkout"]["last_outcome"] == "passed"
    assert by_title["checkout"]["flakiness"]["runs"] == 3
    assert by_title["checkout"]["flakiness"]["flaky"] == 1
    assert by_title["checkout"]["flakiness"]["flake_rate"] == round(1 / 3, 4)
    # Failed, then passed on the same commit: one flip.
    assert by_title["login"]["flakiness"]["flips"] == 1
    assert by_title["login"]["flakiness"]["failed"] == 1
    assert by_title["search_100%"]["last_outcome"] == "passed"
    assert by_title["search_100%"]["flakiness"]["flake_rate"] == 0

    def titles(**params: Any) -> list[str]:
        response = client.get("/api/projects/demo/tests", params=params)
        assert response.status_code == 200
        return [i["title"] for i in response.json()["items"]]

    assert titles(q="LOG") == ["login"]
    assert titles(q="%") == ["search_100%"]
    assert titles(q="app.spec") == ["checkout", "login", "search_100%"]
    first = client.get("/api/projects/demo/tests", params={"limit": 2}).json()
    assert [i["title"] for i in first["items"]] == ["checkout", "login"]
    rest = client.get(
        "/api/projects/demo/tests", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [i["title"] for i in rest["items"]] == ["search_100%"]
    assert rest["next_cursor"] is None
    assert client.get("/api/projects/nope/tests").status_code == 404


def test_a_test_that_did_not_run_in_the_window_has_no_flakiness(
    client: TestClient, make_run: MakeRun
) -> None:
    make_run([case("retired", "failed")], started_at=24 * 45)
    [item] = client.get("/api/projects/demo/tests").json()["items"]
    assert item["last_outcome"] == "failed"
    assert item["flakiness"] is None
    [item] = client.get("/api/projects/demo/tests", params={"days": 60}).json()["items"]
    assert item["flakiness"]["runs"] == 1
    assert client.get("/api/projects/demo/tests", params={"days": 0}).status_code == 422


def test_hidden_tests_answer_404(
    outsider: TestClient, client: TestClient, make_run: MakeRun
) -> None:
    run_id = make_run([case("secret")])
    test_id = _test_id(client, run_id, "secret")
    for path in (
        f"/api/tests/{test_id}",
        f"/api/tests/{test_id}/history",
        "/api/projects/demo/tests",
    ):
        assert outsider.get(path).status_code == 404, path
