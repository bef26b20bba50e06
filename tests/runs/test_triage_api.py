"""Failure groups, a run's failures against its base run, and run comparison, on a seeded
history of two branches whose expected answers are written out by hand."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from playdeck.ingest.records import TestRecord
from playdeck.outcomes import RunStatus

from .conftest import MakeRun, case

E1 = ("Timeout 5000ms waiting for 'button#pay'", "Timeout 3000ms waiting for 'button.pay'")
E1_REFUND = "Timeout 7000ms waiting for 'a#refund'"
E2 = ('Expected: "Total 12" Received: "Total 13"', 'Expected: "Total 20" Received: "Total 21"')


def pay(outcome: str, browser: str = "chromium", error: str | None = None) -> TestRecord:
    return case("pay", outcome, browser=browser, error=error)


def _history(make_run: MakeRun) -> dict[str, int]:
    """Hours ago, branch, commit; by hand:

    r1 main c1: pay[chromium] fails (E1), login passes
    r2 main c2: pay fails on both browsers (E1), total fails (E2), login flaky
    r3 feat f1: pay passes, total fails (E2), refund fails (E1 on another selector)
    r4 main c3: pay[chromium] still fails (E1), login fails, search fails (new); the rest passes
    """
    runs = {}
    runs["r1"] = make_run(
        [pay("failed", error=E1[0]), pay("passed", "firefox"), case("total"), case("refund"),
         case("login")],
        started_at=50, branch="main", commit_sha="c1",
    )  # fmt: skip
    runs["r2"] = make_run(
        [pay("failed", error=E1[1]), pay("failed", "firefox", E1[0]), case("total", "failed",
         error=E2[0]), case("refund"), case("login", "flaky", error="login failed")],
        started_at=40, branch="main", commit_sha="c2",
    )  # fmt: skip
    runs["r3"] = make_run(
        [pay("passed"), case("total", "failed", error=E2[1]),
         case("refund", "failed", error=E1_REFUND), case("login")],
        started_at=30, branch="feat", commit_sha="f1",
    )  # fmt: skip
    runs["r4"] = make_run(
        [pay("failed", error=E1[0]), pay("passed", "firefox"), case("total"), case("refund"),
         case("login", "failed", error="login failed"), case("search", "failed",
         error="search broke")],
        started_at=20, branch="main", commit_sha="c3",
    )  # fmt: skip
    return runs


def _titles(tests: list[dict[str, Any]]) -> list[str]:
    return [f"{t['title']}[{t['browser_project']}]" for t in tests]


def test_failure_groups_by_signature_on_the_default_branch(
    client: TestClient, make_run: MakeRun
) -> None:
    runs = _history(make_run)
    body = client.get("/api/projects/demo/failure-groups").json()
    assert (body["branch"], body["days"], body["truncated"]) == ("main", 30, False)
    assert body["scanned"] == 8  # failing and flaky results on main
    summary = [
        (g["title"], g["tests_affected"], g["occurrences"], g["runs"], g["flaky"])
        for g in body["items"]
    ]
    assert summary == [
        ("Timeout 5000ms waiting for 'button#pay'", 2, 4, 3, 0),  # the latest message
        ("login failed", 1, 2, 2, 1),  # a flaky result's failed attempt counts
        ("search broke", 1, 1, 1, 0),
        ('Expected: "Total 12" Received: "Total 13"', 1, 1, 1, 0),
    ]
    timeout = body["items"][0]
    assert timeout["pattern"] == "Timeout <n> waiting for <str>"
    assert _titles(timeout["tests"]) == ["pay[chromium]", "pay[firefox]"]
    assert timeout["latest_run_id"] == runs["r4"]
    assert timeout["first_seen"] < timeout["last_seen"]

    every = client.get("/api/projects/demo/failure-groups", params={"all_branches": "true"})
    groups = {g["title"]: g for g in every.json()["items"]}
    assert _titles(groups["Timeout 5000ms waiting for 'button#pay'"]["tests"]) == [
        "pay[chromium]",
        "refund[chromium]",
        "pay[firefox]",
    ]
    assert groups['Expected: "Total 20" Received: "Total 21"']["occurrences"] == 2
    feat = client.get("/api/projects/demo/failure-groups", params={"branch": "feat"}).json()
    assert [g["tests_affected"] for g in feat["items"]] == [1, 1]
    limited = client.get("/api/projects/demo/failure-groups", params={"limit": 1}).json()
    assert len(limited["items"]) == 1


def test_a_run_s_failures_are_new_still_failing_or_flaky_and_fixed_tests_listed(
    client: TestClient, make_run: MakeRun
) -> None:
    runs = _history(make_run)
    r4 = client.get(f"/api/test-runs/{runs['r4']}/triage").json()
    assert r4["base_run"]["id"] == runs["r2"] and r4["default_branch"] == "main"
    assert [(f["test"]["title"], f["classification"]) for f in r4["failures"]] == [
        ("search", "new"),
        ("pay", "still_failing"),
        ("login", "flaky"),  # flaky on main (r2) and not failing in the base run
    ]
    assert (r4["new"], r4["still_failing"], r4["flaky"]) == (1, 1, 1)
    assert _titles(r4["fixed"]) == ["pay[firefox]", "total[chromium]"]
    assert r4["failures"][0]["error"] == "search broke"

    # A feature-branch run is measured against main's latest run before it (r2).
    r3 = client.get(f"/api/test-runs/{runs['r3']}/triage").json()
    assert r3["base_run"]["id"] == runs["r2"]
    assert [(f["test"]["title"], f["classification"]) for f in r3["failures"]] == [
        ("refund", "new"),
        ("total", "still_failing"),
    ]
    assert _titles(r3["fixed"]) == ["pay[chromium]"]  # pay[firefox] did not run on feat

    first = client.get(f"/api/test-runs/{runs['r1']}/triage").json()
    assert first["base_run"] is None and first["fixed"] == []
    assert [f["classification"] for f in first["failures"]] == ["new"]


def test_a_run_that_did_not_run_everything_is_never_the_base(
    client: TestClient, make_run: MakeRun
) -> None:
    """An interrupted main run between r2 and r4 ran only ``search``: measured against it, r4's
    ``pay`` would read as a new failure. The base stays the last complete run, r2."""
    runs = _history(make_run)
    cut_short = make_run(
        [case("search")],
        started_at=25,
        branch="main",
        commit_sha="c2b",
        status=RunStatus.INTERRUPTED,
    )
    assert client.get(f"/api/test-runs/{cut_short}").json()["status"] == "interrupted"
    r4 = client.get(f"/api/test-runs/{runs['r4']}/triage").json()
    assert r4["base_run"]["id"] == runs["r2"]
    assert [(f["test"]["title"], f["classification"]) for f in r4["failures"]] == [
        ("search", "new"),
        ("pay", "still_failing"),
        ("login", "flaky"),
    ]


def test_two_runs_are_compared_test_by_test(client: TestClient, make_run: MakeRun) -> None:
    runs = _history(make_run)
    default = client.get(f"/api/test-runs/{runs['r4']}/compare").json()
    assert (default["base"]["id"], default["head"]["id"]) == (runs["r2"], runs["r4"])
    assert [c["test"]["title"] for c in default["newly_failing"]] == ["login"]
    assert [(c["base_outcome"], c["head_outcome"]) for c in default["newly_failing"]] == [
        ("flaky", "failed")
    ]
    assert [c["test"]["title"] for c in default["fixed"]] == ["pay", "total"]
    assert [c["test"]["title"] for c in default["still_failing"]] == ["pay"]
    assert [c["test"]["title"] for c in default["added"]] == ["search"]
    assert (default["removed"], default["changed"], default["unchanged"]) == ([], [], 1)

    # Any two runs, either way round.
    back = client.get(f"/api/test-runs/{runs['r1']}/compare", params={"base": runs["r3"]}).json()
    assert [c["test"]["title"] for c in back["newly_failing"]] == ["pay"]
    assert [c["test"]["title"] for c in back["fixed"]] == ["refund", "total"]
    assert [c["test"]["title"] for c in back["added"]] == ["pay"]  # firefox ran in r1 only


def test_comparison_refusals(client: TestClient, make_run: MakeRun) -> None:
    runs = _history(make_run)
    other = make_run([case("x")], project="Other")
    first = runs["r1"]
    answer = client.get(f"/api/test-runs/{first}/compare")
    assert answer.status_code == 422  # nothing earlier to compare with
    assert answer.json()["detail"].startswith("This run has no earlier run")
    assert client.get(f"/api/test-runs/{first}/compare", params={"base": other}).status_code == 422
    assert client.get(f"/api/test-runs/{first}/compare", params={"base": 10**9}).status_code == 404
    for bad in ("0", "x", str(2**63)):
        assert client.get(f"/api/test-runs/{first}/compare?base={bad}").status_code == 422


def test_triage_of_hidden_projects_answers_404(
    client: TestClient, outsider: TestClient, make_run: MakeRun
) -> None:
    runs = _history(make_run)
    for path in (
        "/api/projects/demo/failure-groups",
        f"/api/test-runs/{runs['r4']}/triage",
        f"/api/test-runs/{runs['r4']}/compare",
    ):
        assert outsider.get(path).status_code == 404, path
