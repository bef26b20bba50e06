from __future__ import annotations

from fastapi.testclient import TestClient

from playdeck.runs.analytics.repository import percentile

from .conftest import MakeRun, case

TITLES = ("steady", "retried", "flipping", "broken")


def test_flaky_tests_are_ranked_by_flaky_results_and_flips(
    client: TestClient, make_run: MakeRun
) -> None:
    history = {
        # hours ago: outcomes of TITLES
        50: ("passed", "flaky", "passed", "failed"),
        40: ("passed", "passed", "passed", "failed"),
        30: ("passed", "flaky", "failed", "failed"),
        20: ("passed", "passed", "passed", "timedout"),
        10: ("passed", "passed", "skipped", "failed"),
    }
    for hours, outcomes in history.items():
        make_run(
            [case(t, o) for t, o in zip(TITLES, outcomes, strict=True)],
            started_at=hours,
        )
    make_run([case("retried", "flaky")], started_at=24 * 40)  # outside the 30-day window

    body = client.get("/api/projects/demo/flaky", params={"days": 30}).json()
    assert body["project"]["slug"] == "demo"
    assert body["days"] == 30
    items = body["items"]
    # steady never flaked; broken always failed: neither is flaky. Equal rates (2 events in 5
    # runs): the test whose last event is more recent comes first.
    assert [i["test"]["title"] for i in items] == ["flipping", "retried"]
    flipping, retried = items
    assert (flipping["runs"], flipping["flaky"], flipping["flips"]) == (5, 0, 2)
    assert flipping["flake_rate"] == 0.4
    assert (retried["runs"], retried["flaky"], retried["flips"]) == (5, 2, 0)
    assert retried["flake_rate"] == 0.4
    assert flipping["last_flaky_at"] > retried["last_flaky_at"]  # the flip back, 20 hours ago
    assert flipping["test"]["file"] == "tests/app.spec.ts"

    narrow = client.get("/api/projects/demo/flaky", params={"days": 1}).json()
    assert narrow["items"] == []


def test_flips_are_between_consecutive_runs_and_count_timeouts(
    client: TestClient, make_run: MakeRun
) -> None:
    for hours, outcome in [(5, "passed"), (4, "timedout"), (3, "passed"), (2, "passed")]:
        make_run([case("t", outcome)], started_at=hours)
    # A skipped run sits between the pass and the failure: no consecutive flip.
    for hours, outcome in [(5, "passed"), (4, "skipped"), (3, "failed")]:
        make_run([case("u", outcome)], started_at=hours)
    [item] = client.get("/api/projects/demo/flaky").json()["items"]
    assert item["test"]["title"] == "t"
    assert (item["runs"], item["flaky"], item["flips"]) == (4, 0, 2)
    assert item["flake_rate"] == 0.5


def test_flaky_ranking_honours_the_limit(client: TestClient, make_run: MakeRun) -> None:
    make_run([case("a", "flaky"), case("b", "flaky"), case("c", "flaky")])
    limited = client.get("/api/projects/demo/flaky", params={"limit": 2}).json()
    assert [i["test"]["title"] for i in limited["items"]] == ["a", "b"]


def test_flaky_rejects_bad_windows(client: TestClient, make_run: MakeRun) -> None:
    make_run([case("a")])
    for params in ({"days": 0}, {"days": 366}, {"limit": 0}, {"days": "x"}):
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
