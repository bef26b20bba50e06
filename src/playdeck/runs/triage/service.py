"""Triage use cases: failure groups across tests and runs, a run's failures against its base
run (new, still failing, flaky; fixed), and the comparison of any two runs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.errors import InvalidInput
from playdeck.kit.text import strip_ansi
from playdeck.models import Project, Run, Test
from playdeck.outcomes import Outcome
from playdeck.runs import service as runs_service
from playdeck.runs.analytics.service import (
    BranchWindow,
    default_branch,
    flake_stats_of,
    window_start,
)
from playdeck.runs.schemas import ProjectRef, TestRef
from playdeck.runs.triage import repository
from playdeck.runs.triage.repository import FAILING, PASSING, Failure, RunOutcome
from playdeck.runs.triage.schemas import (
    Classification,
    ComparedTest,
    FailureGroup,
    FailureGroupReport,
    RunBrief,
    RunComparison,
    RunTriage,
    TriagedFailure,
)
from playdeck.runs.triage.signature import normalise, signature

# At most this many failing results are grouped per request (the most recent ones).
MAX_SCANNED = 20_000
TESTS_PER_GROUP = 20
# Known flaky: the days of default-branch history a "flaky" classification looks at.
FLAKY_DAYS = 30
MAX_COMPARED = 2_000
TITLE_LENGTH = 300


def first_line(message: str | None) -> str | None:
    """The first non-blank line of an error message, without colour codes."""
    for line in strip_ansi(message or "").splitlines():
        if line.strip():
            return line.strip()[:TITLE_LENGTH]
    return None


@dataclass
class _Group:
    latest: Failure
    tests: dict[int, None] = field(default_factory=dict)  # insertion-ordered: newest first
    runs: set[int] = field(default_factory=set)
    occurrences: int = 0
    flaky: int = 0
    first_seen: datetime | None = None


def failure_groups(
    session: Session, *, project: Project, window: BranchWindow
) -> FailureGroupReport:
    """The project's failures in the window grouped by signature, most tests affected first."""
    days, branch, limit = window.days, window.branch, window.limit
    since = window_start(days)
    failures = repository.window_failures(
        session, project_id=project.id, since=since, branch=branch, limit=MAX_SCANNED + 1
    )
    truncated = len(failures) > MAX_SCANNED
    failures = failures[:MAX_SCANNED]
    groups: dict[str, _Group] = {}
    patterns: dict[str, str] = {}
    for failure in failures:  # newest first
        key = signature(failure.message, failure.stack)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(latest=failure)
            patterns[key] = normalise(failure.message, failure.stack)
        group.tests.setdefault(failure.test_id)
        group.runs.add(failure.run_id)
        group.occurrences += 1
        group.flaky += failure.outcome == Outcome.FLAKY
        group.first_seen = failure.at
    ranked = sorted(
        groups.items(),
        key=lambda item: (
            -len(item[1].tests),
            -item[1].occurrences,
            -item[1].latest.at.timestamp(),
        ),
    )[:limit]
    shown = {test_id for _, g in ranked for test_id in list(g.tests)[:TESTS_PER_GROUP]}
    tests = repository.tests_by_id(session, sorted(shown))
    items = [
        FailureGroup(
            signature=key,
            title=first_line(group.latest.message) or "(no error message)",
            pattern=patterns[key],
            tests_affected=len(group.tests),
            occurrences=group.occurrences,
            flaky=group.flaky,
            runs=len(group.runs),
            first_seen=group.first_seen or group.latest.at,
            last_seen=group.latest.at,
            latest_run_id=group.latest.run_id,
            tests=[TestRef.of(tests[t]) for t in list(group.tests)[:TESTS_PER_GROUP] if t in tests],
        )
        for key, group in ranked
    ]
    return FailureGroupReport(
        project=ProjectRef.of(project),
        days=days,
        since=since,
        branch=branch,
        scanned=len(failures),
        truncated=truncated,
        items=items,
    )


def brief(run: Run) -> RunBrief:
    return RunBrief.model_validate(run)


def base_run_of(session: Session, run: Run, project: Project) -> Run | None:
    """The run a run's failures are measured against: the latest run of the project's default
    branch before it (any branch's when the project's runs name none)."""
    return repository.base_run(session, run, branch=default_branch(session, project))


def _known_flaky(session: Session, project: Project, test_ids: list[int]) -> set[int]:
    stats = flake_stats_of(session, project=project, test_ids=test_ids, days=FLAKY_DAYS)
    return {test_id for test_id, found in stats.items() if found.flaky + found.flips}


def run_triage(session: Session, *, run: Run, project: Project) -> RunTriage:
    """The run's failures (failed, timed out) as still failing (also failing in the base run),
    flaky (passed on retry or flipped on the default branch lately) or new; and the tests that
    failed in the base run and pass in this one (fixed)."""
    failing = repository.run_outcomes(session, run.id, failing_only=True)
    base = base_run_of(session, run, project)
    base_failing = repository.run_outcomes(session, base.id, failing_only=True) if base else {}
    flaky = _known_flaky(session, project, sorted(failing))
    now = (
        repository.run_outcomes(session, run.id, test_ids=sorted(base_failing))
        if base_failing
        else {}
    )
    fixed_ids = [t for t in base_failing if t in now and now[t].outcome in PASSING]
    tests = repository.tests_by_id(session, sorted({*failing, *fixed_ids}))

    def classify(test_id: int) -> Classification:
        if test_id in base_failing:
            return "still_failing"
        return "flaky" if test_id in flaky else "new"

    order = {"new": 0, "still_failing": 1, "flaky": 2}
    failures = sorted(
        (
            TriagedFailure(
                test=TestRef.of(tests[test_id]),
                outcome=result.outcome,
                classification=classify(test_id),
                signature=signature(result.message, result.stack),
                error=first_line(result.message),
            )
            for test_id, result in failing.items()
        ),
        key=lambda f: (order[f.classification], f.test.full_title, f.test.id),
    )
    fixed = sorted((TestRef.of(tests[t]) for t in fixed_ids), key=lambda t: (t.full_title, t.id))
    return RunTriage(
        run_id=run.id,
        base_run=brief(base) if base else None,
        default_branch=default_branch(session, project),
        failures=failures,
        fixed=fixed,
        new=sum(f.classification == "new" for f in failures),
        still_failing=sum(f.classification == "still_failing" for f in failures),
        flaky=sum(f.classification == "flaky" for f in failures),
    )


def comparison_base(
    session: Session, *, principal: Principal, head: Run, project: Project, base_id: int | None
) -> Run:
    """The run ``head`` is compared with: ``base_id`` (readable, same project) or its base run."""
    if base_id is None:
        base = base_run_of(session, head, project)
        if base is None:
            raise InvalidInput("This run has no earlier run to compare with; name one in base")
        return base
    base, base_project = runs_service.get_run(
        session, principal=principal, run_id=base_id, permission=Permission.PROJECT_READ
    )
    if base_project.id != project.id:
        raise InvalidInput("Only runs of the same project can be compared")
    return base


def _compared(test: Test, base: RunOutcome | None, head: RunOutcome | None) -> ComparedTest:
    return ComparedTest(
        test=TestRef.of(test),
        base_outcome=base.outcome if base else None,
        head_outcome=head.outcome if head else None,
        base_duration_ms=base.duration_ms if base else None,
        head_duration_ms=head.duration_ms if head else None,
    )


def compare_runs(session: Session, *, base: Run, head: Run) -> RunComparison:
    """Every test of either run, sorted into what changed from ``base`` to ``head``."""
    before = repository.run_outcomes(session, base.id)
    after = repository.run_outcomes(session, head.id)
    kinds: dict[str, list[int]] = {
        "newly_failing": [],
        "fixed": [],
        "still_failing": [],
        "added": [],
        "removed": [],
        "changed": [],
    }
    unchanged = 0
    for test_id in {*before, *after}:
        old, new = before.get(test_id), after.get(test_id)
        if old is None:
            kinds["added"].append(test_id)
        elif new is None:
            kinds["removed"].append(test_id)
        elif old.outcome in FAILING and new.outcome in FAILING:
            kinds["still_failing"].append(test_id)
        elif new.outcome in FAILING:
            kinds["newly_failing"].append(test_id)
        elif old.outcome in FAILING and new.outcome in PASSING:
            kinds["fixed"].append(test_id)
        elif old.outcome != new.outcome:
            kinds["changed"].append(test_id)
        else:
            unchanged += 1
    truncated = any(len(ids) > MAX_COMPARED for ids in kinds.values())
    # Only the listed tests are loaded: the first ``MAX_COMPARED`` of each kind by id.
    shown = {kind: sorted(ids)[:MAX_COMPARED] for kind, ids in kinds.items()}
    tests = repository.tests_by_id(session, sorted({t for ids in shown.values() for t in ids}))

    def listed(ids: Iterable[int]) -> list[ComparedTest]:
        ordered = sorted(ids, key=lambda t: (tests[t].full_title, tests[t].browser_project, t))
        return [_compared(tests[t], before.get(t), after.get(t)) for t in ordered]

    return RunComparison(
        base=brief(base),
        head=brief(head),
        newly_failing=listed(shown["newly_failing"]),
        fixed=listed(shown["fixed"]),
        still_failing=listed(shown["still_failing"]),
        added=listed(shown["added"]),
        removed=listed(shown["removed"]),
        changed=listed(shown["changed"]),
        unchanged=unchanged,
        truncated=truncated,
    )
