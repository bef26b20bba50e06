"""``/api/tests/{test_id}/quarantine`` (quarantine, lift), ``/api/quarantine`` (a project's list,
for its CI) and ``/api/test-runs/{run_id}/gate`` (a run's verdict, for ``playdeck gate``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from playdeck.audit.service import Actor
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep
from playdeck.quarantine import service
from playdeck.quarantine.schemas import GateVerdict, Quarantine, QuarantineIn, QuarantineList
from playdeck.runs.filters import IdPath

router = APIRouter(tags=["quarantine"])

Quarantiners = Annotated[Principal, authorize(Permission.TESTS_QUARANTINE)]
Deliverers = Annotated[Principal, authorize(Permission.RUNS_WRITE)]


@router.put("/api/tests/{test_id}/quarantine", response_model=Quarantine)
def quarantine_test(
    test_id: IdPath,
    data: QuarantineIn,
    session: SessionDep,
    client: ClientDep,
    principal: Quarantiners,
) -> Quarantine:
    """Quarantine a test: its failures are still recorded but stop failing CI (the pytest
    plugin, the Playwright reporter, ``playdeck gate``) until it is lifted or ``expires_at``
    passes. Sending it again changes the reason or expiry."""
    return service.quarantine_test(
        session,
        principal=principal,
        test_id=test_id,
        data=data,
        actor=Actor.of(principal),
        client=client,
    )


@router.delete("/api/tests/{test_id}/quarantine", status_code=204, response_class=Response)
def unquarantine_test(
    test_id: IdPath, session: SessionDep, client: ClientDep, principal: Quarantiners
) -> Response:
    """Lift a test's quarantine (204 also when it had none)."""
    service.lift(
        session, principal=principal, test_id=test_id, actor=Actor.of(principal), client=client
    )
    return Response(status_code=204)


@router.get("/api/quarantine", response_model=QuarantineList)
def list_quarantine(
    project_name: Annotated[str, Query(alias="projectName", min_length=1, max_length=200)],
    session: SessionDep,
    principal: Deliverers,
) -> QuarantineList:
    """The tests quarantined in a project, by its name as CI names it: readable by whoever may
    deliver results there (an API key with the ``runs:write`` scope)."""
    return service.list_for_delivery(session, principal=principal, project_name=project_name)


@router.get("/api/test-runs/{run_id}/gate", response_model=GateVerdict)
def gate_run(run_id: IdPath, session: SessionDep, principal: Deliverers) -> GateVerdict:
    """Should this run fail the CI job? Only failures of tests not quarantined do."""
    return service.gate(session, principal=principal, run_id=run_id)
