"""The pure planning rules: branch patterns, ``keep_last`` per set of limits, pinned runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playdeck.retention.plan import RunFacts, plan
from playdeck.retention.schemas import RetentionPolicyIn

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def _runs(*specs: tuple[int, str | None, int, bool]) -> list[RunFacts]:
    """``(id, branch, age in days, pinned)``, given newest first."""
    return [
        RunFacts(id=i, started_at=NOW - timedelta(days=d), branch=b, pinned=p, files_pruned=False)
        for i, b, d, p in specs
    ]


def test_keep_last_counts_only_unpinned_runs_under_the_same_limits() -> None:
    policy = RetentionPolicyIn.model_validate(
        {"keep_last": 2, "branch_rules": [{"branch": "release/*", "keep_last": 1}]}
    )
    runs = _runs(
        (9, "main", 0, False),
        (8, "release/2.0", 1, False),
        (7, None, 2, True),  # pinned: kept, and not one of the last 2
        (6, "feature", 3, False),
        (5, "release/1.0", 4, False),  # the second release run: beyond its rule's 1
        (4, "main", 5, False),  # third of the project's limits
    )
    assert plan(policy, runs, now=NOW).delete == [5, 4]


def test_the_first_matching_rule_wins_and_unset_limits_mean_no_limit() -> None:
    policy = RetentionPolicyIn.model_validate(
        {
            "keep_days": 10,
            "files_days": 2,
            "branch_rules": [
                {"branch": "main", "keep_days": 100},
                {"branch": "m*", "keep_days": 1},
            ],
        }
    )
    runs = _runs((1, "main", 50, False), (2, "mobile", 5, False), (3, None, 5, False))
    result = plan(policy, runs, now=NOW)
    # main: 100 days, no files limit; mobile: 1 day; no branch: the project's limits.
    assert (result.delete, result.prune_files) == ([2], [3])


def test_runs_whose_files_are_gone_are_not_planned_again() -> None:
    policy = RetentionPolicyIn.model_validate({"files_days": 1})
    (run,) = _runs((1, "main", 5, False))
    done = RunFacts(run.id, run.started_at, run.branch, pinned=False, files_pruned=True)
    assert plan(policy, [done], now=NOW).prune_files == []
    assert plan(policy, [run], now=NOW).prune_files == [1]
