from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from playdeck.runs.analytics.repository import percentile

from .conftest import MakeRun, case

TITLES = ("A", "B", "C", "D")
# A hand-written history on two branches. Hours ago: (branch, commit, outcomes of A, B, C, D);
# None: the test did not run.
HISTORY: dict[int, tuple[str, str | None, tuple[str | None, ...]]] = {
    60: ("main", "c1", ("passed", "passed", "failed", "passed")),
    55: ("main", "c1", ("passed", "passed", "passed", "passed")),  # c1 again: C flipped
    50: ("main", "c2", ("flaky", "passed", "passed", "passed")),  # A passed on retry
    40: ("feat", "f1", ("passed", "failed", "passed", "timedout")),
    35: ("feat", "f1", (None, "failed", None, "passed")),  # f1 again: D flipped, B still fails
    30: ("feat", "f2", (None, "failed", None, "passed")),
    20: ("main", "c3", ("passed", "passed", "passed", "passed")),
    10: ("main", None, ("failed", None, None, None)),  # no commit: compared with nothing
}


def _store_history(make_run: MakeRun) -> None:
    for hours, (branch, commit, outcomes) in HISTORY.items():
        tests = [case(t, o) for t, o in zip(TITLES, outcomes, strict=True) if o is not None]
        make_run(tests, started_at=hours, branch=branch, commit_sha=commit)
    # Outside the 30-day window.
    make_run([case("B", "flaky")], started_at=24 * 40, branch="main", commit_sha="old")


def _summary(items: list[dict[str, Any]]) -> list[tuple[str, int, int, int, int, float]]:
    return [
        (i["test"]["title"], i["runs"], i["flaky"], i["flips"], i["failed"], i["flake_rate"])
        for i in items
    ]


def test_flakiness_is_per_branch_and_same_commit(client: TestClient, make_run: MakeRun) -> None:
    _store_history(make_run)

    # No branch asked and none set: the branch most runs were on (main, 5 of 8).
    main = client.get("/api/projects/demo/flaky", params={"days": 30}).json()
    assert (main["branch"], main["default_branch"], main["days"]) == ("main", "main", 30)
    # C failed on c1 and passed on c1: one flip in 4 results. A passed on retry once; its
    # failure without a commit is a failure, not a flip. B and D never failed on main.
    assert _summary(main["items"]) == [("C", 4, 0, 1, 1, 0.25), ("A", 5, 1, 0, 1, 0.2)]
    assert main["broken"] == []
    assert main["items"][0]["test"]["file"] == "tests/app.spec.ts"

    feat = client.get("/api/projects/demo/flaky", params={"branch": "feat"}).json()
    # D timed out on f1 and passed on f1. B failed on every commit: broken on feat, not flaky.
    assert _summary(feat["items"]) == [("D", 3, 0, 1, 1, 0.3333)]
    assert _summary(feat["broken"]) == [("B", 3, 0, 0, 3, 0.0)]

    every = client.get("/api/projects/demo/flaky", params={"all_branches": "true"}).json()
    assert every["branch"] is None
    assert _summary(every["items"]) == [
        ("C", 5, 0, 1, 1, 0.2),
        ("A", 6, 1, 0, 1, 0.1667),
        ("D", 7, 0, 1, 1, 0.1429),
    ]
    assert _summary(every["broken"]) == [("B", 7, 0, 0, 3, 0.0)]

    narrow = client.get("/api/projects/demo/flaky", params={"days": 1}).json()
    # The last day on main: A passed, then failed without a commit. Failing is not flaky.
    assert narrow["items"] == []
    assert _summary(narrow["broken"]) == [("A", 2, 0, 0, 1, 0.0)]


def test_the_project_default_branch_is_the_default_view(
    client: TestClient, make_run: MakeRun
) -> None:
    _store_history(make_run)
    project = client.patch("/api/projects/demo", json={"default_branch": "feat"})
    assert project.status_code == 200, project.text
    assert project.json()["default_branch"] == "feat"
    body = client.get("/api/projects/demo/flaky").json()
    assert (body["branch"], body["default_branch"]) == ("feat", "feat")
    assert [i["test"]["title"] for i in body["items"]] == ["D"]
    # The tests page's flakiness follows the default branch too.
    tests = {i["title"]: i for i in client.get("/api/projects/demo/tests").json()["items"]}
    assert tests["D"]["flakiness"]["flips"] == 1
    assert tests["C"]["flakiness"]["runs"] == 1  # passed once on feat
    assert tests["C"]["flakiness"]["flake_rate"] == 0
    # Cleared: back to the busiest branch.
    cleared = client.patch("/api/projects/demo", json={"default_branch": None}).json()
    assert cleared["default_branch"] is None
    assert client.get("/api/projects/demo/flaky").json()["branch"] == "main"


def test_flaky_ranking_honours_the_limit(client: TestClient, make_run: MakeRun) -> None:
    make_run([case("a", "flaky"), case("b", "flaky"), case("c", "flaky")])
    limited = client.get("/api/projects/demo/flaky", params={"limit": 2}).json()
    assert [i["test"]["title"] for i in limited["items"]] == ["a", "b"]


def test_flaky_rejects_bad_windows(client: TestClient, make_run: MakeRun) -> None:
    make_run([case("a")])
    too_long = "b" * 301
    for params in ({"days": 0}, {"days": 366}, {"limit": 0}, {"days": "x"}, {"branch": too_long}):
        assert client.get("/api/projects/demo/flaky", params=params).status_code == 422
    assert client.get("/api/projects/nope/flaky").status_code == 404


def test_trends_are_oldest_first_with_p90_durations(client: TestClient, make_run: MakeRun) -> None:
    durations = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
    older = make_run(
        [case(f"t{i}", duration_ms=d) for i, d in enumerate(durations)]
        + [case("skipped", "skipped", duration_ms=0)],
        started_at=3,
        duration_ms=5000,
    )
    newer = make_run(
        [case("a", duration_ms=50), case("b", "failed", duration_ms=70)],
        started_at=1,
        duration_ms=900,
        branch="feature",
    )
    body = client.get("/api/projects/demo/trends").json()
    assert [p["run_id"] for p in body["items"]] == [older, newer]
    first, second = body["items"]
    # Continuous 90th percentile of 100..1000 (skipped tests left out): 910.
    assert first["p90_test_duration_ms"] == 910.0
    assert first["counts"]["total"] == 11
    assert first["pass_rate"] == 1.0
    assert first["duration_ms"] == 5000
    assert second["p90_test_duration_ms"] == 68.0  # 50 + 0.9 * (70 - 50)
    assert second["pass_rate"] == 0.5
    assert second["branch"] == "feature"

    latest = client.get("/api/projects/demo/trends", params={"runs": 1}).json()
    assert [p["run_id"] for p in latest["items"]] == [newer]
    main_only = client.get("/api/projects/demo/trends", params={"branch": "feature"}).json()
    assert [p["run_id"] for p in main_only["items"]] == [newer]
    for params in ({"runs": 0}, {"runs": 501}):
        assert client.get("/api/projects/demo/trends", params=params).status_code == 422


def test_a_run_of_only_skipped_tests_has_no_p90(client: TestClient, make_run: MakeRun) -> None:
    make_run([case("a", "skipped")])
    [point] = client.get("/api/projects/demo/trends").json()["items"]
    assert point["p90_test_duration_ms"] is None
    assert point["pass_rate"] is None


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([5]) == 5.0
    assert percentile([10, 20]) == 19.0
    assert percentile(list(range(1, 11))) == 9.1
    assert percentile(list(range(0, 101))) == 90.0


def test_analytics_of_hidden_projects_answer_404(outsider: TestClient, make_run: MakeRun) -> None:
    make_run([case("a")])
    assert outsider.get("/api/projects/demo/flaky").status_code == 404
    assert outsider.get("/api/projects/demo/trends").status_code == 404
