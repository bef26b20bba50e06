"""Quarantining tests, and what CI reads: the project's list and a run's verdict.

Who: project members and up quarantine and lift (``tests:quarantine``), every change audited.
What CI reads is keyed like delivery: whoever may deliver results into the project by name
(``runs:write``, with the project-name-squatting rule of ``check_delivery_by_name``) may read its
list and the verdict of its runs, because that list decides how those results count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Actor, Trail
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import check_delivery_by_name, require_project
from playdeck.errors import NotFound
from playdeck.kit.clock import utcnow
from playdeck.models import Project, Test
from playdeck.models import Quarantine as QuarantineRow
from playdeck.outcomes import FAILING_OUTCOMES, Outcome
from playdeck.projects import repository as projects
from playdeck.projects.access import found_in_project
from playdeck.quarantine import repository
from playdeck.quarantine.schemas import (
    GateFailure,
    GateVerdict,
    Quarantine,
    QuarantineIn,
    QuarantineList,
    TestIdentity,
)
from playdeck.runs import service as runs
from playdeck.runs.history import repository as history


def active(session: Session, *, test: Test, now: datetime | None = None) -> Quarantine | None:
    """The test's quarantine if it is in force (not lapsed)."""
    row = repository.get(session, test.id)
    if row is None or (row.expires_at is not None and row.expires_at <= (now or utcnow())):
        return None
    return Quarantine.of_row(row, test)


@dataclass(frozen=True, slots=True)
class _Subject:
    """The test a quarantine action names (when the caller may quarantine in its project), its
    project, and its quarantine row if it has one."""

    test: Test
    project: Project
    row: QuarantineRow | None

    @classmethod
    def load(cls, session: Session, *, principal: Principal, test_id: int) -> _Subject:
        found = history.get_test(session, test_id)
        test, project = found_in_project(
            session,
            principal,
            found,
            permission=Permission.TESTS_QUARANTINE,
            missing="Test not found",
        )
        return cls(test=test, project=project, row=repository.get(session, test.id))

    def audit(self, trail: Trail, action: Action, **details: object) -> None:
        trail.record(
            action,
            project_id=self.project.id,
            project=self.project.name,
            test_id=self.test.id,
            test=self.test.full_title,
            **details,
        )


def quarantine_test(
    session: Session,
    *,
    principal: Principal,
    test_id: int,
    data: QuarantineIn,
    actor: Actor,
    client: ClientInfo | None = None,
) -> Quarantine:
    """Quarantine the test, or change the reason or expiry of its quarantine."""
    subject = _Subject.load(session, principal=principal, test_id=test_id)
    row = subject.row
    before = None if row is None else {"reason": row.reason, "expires_at": _iso(row.expires_at)}
    if row is None:
        row = QuarantineRow(project_id=subject.project.id, test_id=subject.test.id)
    row.reason = data.reason
    row.expires_at = data.expires_at
    row.created_by_id = principal.user_id
    row.created_by_name = actor.name
    repository.save(session, row)
    after = {"reason": row.reason, "expires_at": _iso(row.expires_at)}
    trail = Trail(session, actor, client)
    subject.audit(trail, Action.TEST_QUARANTINED, before=before, after=after)
    return Quarantine.of_row(row, subject.test)


def lift(
    session: Session,
    *,
    principal: Principal,
    test_id: int,
    actor: Actor,
    client: ClientInfo | None = None,
) -> None:
    """Un-quarantine the test (nothing to do, nothing audited, when it is not quarantined)."""
    subject = _Subject.load(session, principal=principal, test_id=test_id)
    if subject.row is None:
        return
    reason = subject.row.reason  # read before the row is deleted
    repository.remove(session, subject.test.id)
    subject.audit(Trail(session, actor, client), Action.TEST_UNQUARANTINED, reason=reason)


def list_for_delivery(
    session: Session, *, principal: Principal, project_name: str
) -> QuarantineList:
    """The quarantine in force in the project named ``project_name``, for its CI."""
    project = projects.get_by_name(session, project_name)
    if project is None:
        raise NotFound("Project not found")
    require_project(session, principal, Permission.RUNS_WRITE, project.id)
    check_delivery_by_name(session, principal, project)
    rows = repository.active_in_project(session, project.id, utcnow())
    return QuarantineList(
        project_id=project.id,
        project=project.name,
        tests=[Quarantine.of_row(row, test) for row, test in rows],
    )


def gate(session: Session, *, principal: Principal, run_id: int) -> GateVerdict:
    """A run's verdict for CI: it passes unless a test that is not quarantined failed."""
    run, project = runs.get_run(
        session, principal=principal, run_id=run_id, permission=Permission.RUNS_WRITE
    )
    check_delivery_by_name(session, principal, project)
    quarantined = repository.active_test_ids(session, project.id, utcnow())
    failures: list[GateFailure] = []
    excused: list[GateFailure] = []
    for result, test in repository.run_results(session, run.id):
        if Outcome(result.outcome) not in FAILING_OUTCOMES:
            continue
        row = quarantined.get(test.id)
        failure = GateFailure(
            **TestIdentity.of(test).model_dump(),
            outcome=result.outcome,
            quarantine_reason=row.reason if row else None,
        )
        (excused if row else failures).append(failure)
    return GateVerdict(
        run_id=run.id,
        project_id=project.id,
        passed=not failures,
        failures=failures,
        quarantined=excused,
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
