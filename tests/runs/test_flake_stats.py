"""The flake statistics query (``runs.analytics.repository.flake_stats``) on multi-branch
histories: hand-checked answers for the cases its index seeks depend on (a commit re-run, the
same commit on two branches, two runs started at the same instant), and, on a generated history,
the answers of the definition spelled out in Python over every stored result."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.kit.clock import utcnow
from playdeck.models import Project, Result, Run, Test
from playdeck.outcomes import Outcome
from playdeck.runs.analytics.repository import FlakeCounts, flake_counts, flake_stats

from .conftest import MakeRun, case

DAYS = 30
# (hours ago, project, branch, commit, {title: outcome}); the comments say what each case checks.
HAND_WRITTEN: list[tuple[float, str, str, str | None, dict[str, str]]] = [
    # "late" passed on m1 on a feature branch before the window; failing on m1 on main in the
    # window is a flip: the pass may be on any branch, at any time.
    (24 * 40, "Demo", "feat", "m1", {"late": "passed"}),
    (100, "Demo", "main", "m1", {"late": "failed"}),
    # m2 re-run on main: "rerun" failed then passed (a flip); "twin" failed both times (broken).
    (90, "Demo", "main", "m2", {"rerun": "failed", "twin": "failed", "retry": "flaky"}),
    (80, "Demo", "main", "m2", {"rerun": "passed", "twin": "failed", "retry": "flaky"}),
    # Two runs started at the same instant on two branches. "same_time" failed on m3 and passed
    # on f3 (another commit): no flip. "same_time2" failed on m4 and passed on m4: a flip.
    (70, "Demo", "main", "m3", {"same_time": "failed"}),
    (70, "Demo", "feat", "f3", {"same_time": "passed"}),
    (60, "Demo", "main", "m4", {"same_time2": "failed"}),
    (60, "Demo", "feat", "m4", {"same_time2": "passed"}),
    # Another project passed a test of the same name on m5: not this project's test.
    (50, "Other", "main", "m5", {"cross": "passed"}),
    (40, "Demo", "main", "m5", {"cross": "failed"}),
    # Runs without a commit are compared with nothing; a skipped test ran; interrupted says
    # nothing about the test but the run still counts.
    (30, "Demo", "main", None, {"nocommit": "timedout", "late": "skipped"}),
    (20, "Demo", "main", None, {"nocommit": "passed", "rerun": "interrupted"}),
]
# Over 30 days: title -> (runs, flaky, flips, failed, hours ago of the latest flaky or flip).
Expected = dict[str, tuple[int, int, int, int, int | None]]
EXPECTED_MAIN: Expected = {
    "late": (2, 0, 1, 1, 100),
    "rerun": (3, 0, 1, 1, 90),
    "twin": (2, 0, 0, 2, None),
    "retry": (2, 2, 0, 0, 80),
    "same_time": (1, 0, 0, 1, None),
    "same_time2": (1, 0, 1, 1, 60),
    "cross": (1, 0, 0, 1, None),
    "nocommit": (2, 0, 0, 1, None),
}
EXPECTED_FEAT: Expected = {"same_time": (1, 0, 0, 0, None), "same_time2": (1, 0, 0, 0, None)}

Stats = tuple[int, int, int, int, datetime | None]
# Generated history: outcomes and how often each occurs.
OUTCOMES = {"passed": 12, "failed": 3, "flaky": 2, "timedout": 1, "skipped": 1, "interrupted": 1}
_FAILING = {Outcome.FAILED.value, Outcome.ERROR.value, Outcome.TIMEDOUT.value}
_PASSING = {Outcome.PASSED.value, Outcome.FLAKY.value}


def _project_id(session: Session, name: str = "Demo") -> int:
    return session.scalars(select(Project.id).where(Project.name == name)).one()


def _test_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Test.id).where(Test.project_id == _project_id(session))))


def _query(
    engine: Engine, *, now: datetime, branch: str | None, test_ids: list[int] | None
) -> dict[int, Stats]:
    """``flake_counts`` of ``test_ids``, else ``flake_stats`` (the flaky ranking's form)."""
    with Session(engine) as session:
        project_id, since = _project_id(session), now - timedelta(days=DAYS)
        found: dict[int, FlakeCounts]
        if test_ids is None:
            rows = flake_stats(session, project_id=project_id, since=since, branch=branch)
            found = {r.test.id: r.counts for r in rows}
        else:
            found = flake_counts(
                session, project_id=project_id, since=since, branch=branch, test_ids=test_ids
            )
        return {
            test_id: (c.runs, c.flaky, c.flips, c.failed, c.last_flaky_at)
            for test_id, c in found.items()
        }


def test_hand_written_history_on_main_and_feat(engine: Engine, make_run: MakeRun) -> None:
    now = utcnow()
    for hours, project, branch, commit, outcomes in HAND_WRITTEN:
        make_run(
            [case(title, outcome) for title, outcome in outcomes.items()],
            project=project,
            started_at=now - timedelta(hours=hours),
            branch=branch,
            commit_sha=commit,
        )
    with Session(engine) as session:
        ids = _test_ids(session)
        titles = dict(session.execute(select(Test.id, Test.title).where(Test.id.in_(ids))).all())

    def answers(branch: str, test_ids: list[int] | None) -> dict[str, Stats]:
        found = _query(engine, now=now, branch=branch, test_ids=test_ids)
        return {titles[test_id]: stats for test_id, stats in found.items()}

    def expected(table: Expected) -> dict[str, Stats]:
        return {
            title: (runs, flaky, flips, failed, None if h is None else now - timedelta(hours=h))
            for title, (runs, flaky, flips, failed, h) in table.items()
        }

    assert answers("main", ids) == expected(EXPECTED_MAIN)
    assert answers("feat", ids) == expected(EXPECTED_FEAT)
    # The flaky ranking's form (no ids): the tests with a flaky or failing result there.
    assert answers("main", None) == expected(EXPECTED_MAIN)
    assert answers("feat", None) == {}
    # A page of two tests: only those.
    two = [i for i in ids if titles[i] in ("rerun", "twin")]
    assert answers("main", two) == expected({t: EXPECTED_MAIN[t] for t in ("rerun", "twin")})


def _generate(make_run: MakeRun, rng: random.Random, now: datetime) -> None:
    """60 runs over 45 days on three branches: commits re-run and shared across branches (a
    feature merged), some runs without a commit, some started at the same instant as another,
    and an other project running the same commits."""
    titles = [f"t{i}" for i in range(10)]
    commits: list[str] = []
    starts: list[datetime] = []
    for n in range(60):
        roll = rng.random()
        if commits and roll < 0.45:
            commit: str | None = rng.choice(commits)
        elif roll < 0.55:
            commit = None
        else:
            commit = f"c{n}"
            commits.append(commit)
        started = (
            rng.choice(starts)
            if starts and rng.random() < 0.15
            else now - timedelta(hours=rng.uniform(0, 45 * 24))
        )
        starts.append(started)
        tests = [
            case(title, rng.choices(list(OUTCOMES), weights=list(OUTCOMES.values()))[0])
            for title in titles
            if rng.random() < 0.85
        ]
        make_run(
            tests,
            project="Other" if n % 10 == 9 else "Demo",
            started_at=started,
            branch=rng.choice(("main", "main", "feat/a", "feat/b")),
            commit_sha=commit,
        )


def _definition(
    engine: Engine, *, since: datetime, branch: str | None, test_ids: list[int] | None
) -> dict[int, Stats]:
    """The statistics by their definition (``flake_stats``' docstring), from every result."""
    with Session(engine) as session:
        project_id = _project_id(session)
        rows = session.execute(
            select(
                Result.test_id,
                Result.outcome,
                Run.started_at,
                Run.branch,
                Run.commit_sha,
                Run.project_id,
            ).join(Run, Run.id == Result.run_id)
        ).all()
    passed_on = {
        (test_id, commit)
        for test_id, outcome, _, _, commit, project in rows
        if outcome in _PASSING and project == project_id and commit is not None
    }
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    last: dict[int, datetime] = {}
    for test_id, outcome, at, run_branch, commit, project in rows:
        if project != project_id or at < since or branch not in (None, run_branch):
            continue
        if test_ids is not None and test_id not in test_ids:
            continue
        flip = outcome in _FAILING and (test_id, commit) in passed_on
        stats = counts[test_id]
        stats[0] += 1
        stats[1] += outcome == Outcome.FLAKY.value
        stats[2] += flip
        stats[3] += outcome in _FAILING
        if outcome == Outcome.FLAKY.value or flip:
            last[test_id] = max(at, last.get(test_id, at))
    return {
        test_id: (runs, flaky, flips, failed, last.get(test_id))
        for test_id, (runs, flaky, flips, failed) in counts.items()
        if test_ids is not None or flaky + failed
    }


def test_generated_history_matches_the_definition(engine: Engine, make_run: MakeRun) -> None:
    now = utcnow()
    _generate(make_run, random.Random(20261205), now)
    since = now - timedelta(days=DAYS)
    with Session(engine) as session:
        ids = _test_ids(session)
    some = ids[::3]
    checked = 0
    for branch in ("main", "feat/a", None):
        for test_ids in (ids, some, None):
            wanted = _definition(engine, since=since, branch=branch, test_ids=test_ids)
            assert _query(engine, now=now, branch=branch, test_ids=test_ids) == wanted
            checked += sum(stats[2] for stats in wanted.values())
    # The history exercises the rule the index seeks serve: failures that flipped.
    assert checked > 0
