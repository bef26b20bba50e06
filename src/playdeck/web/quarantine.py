"""Quarantine on a test's page: the forms that quarantine a test and lift it (``tests:quarantine``:
project members and up), posting to the same service as ``/api/tests/{id}/quarantine``."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from playdeck.audit.service import Actor
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep
from playdeck.errors import InvalidInput
from playdeck.kit.clock import utcnow
from playdeck.quarantine import service
from playdeck.quarantine.schemas import MAX_REASON, QuarantineIn
from playdeck.web.forms import done
from playdeck.web.params import page_id

router = APIRouter()

Quarantiners = Annotated[Principal, authorize(Permission.TESTS_QUARANTINE)]
# What the form offers: days until the quarantine lapses ("" : until lifted).
EXPIRY_DAYS = (7, 14, 30, 90)


def _data(reason: str, expires_days: str) -> QuarantineIn:
    days = expires_days.strip()
    if days and (not days.isdigit() or int(days) not in EXPIRY_DAYS):
        raise InvalidInput("Choose one of the offered expiries", code="invalid_expiry")
    expires_at = utcnow() + timedelta(days=int(days)) if days else None
    try:
        return QuarantineIn(reason=reason, expires_at=expires_at)
    except ValidationError as exc:
        raise InvalidInput("Give a reason for the quarantine", code="invalid_reason") from exc


@router.post("/tests/{test_id}/quarantine", response_class=HTMLResponse, response_model=None)
def quarantine_test_page(
    test_id: str,
    session: SessionDep,
    client: ClientDep,
    principal: Quarantiners,
    reason: Annotated[str, Form(max_length=MAX_REASON)] = "",
    expires_days: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    number = page_id(test_id, what="Test")
    service.quarantine_test(
        session,
        principal=principal,
        test_id=number,
        data=_data(reason, expires_days),
        actor=Actor.of(principal),
        client=client,
    )
    return done(f"/tests/{number}", "test-quarantined")


@router.post("/tests/{test_id}/unquarantine", response_class=HTMLResponse, response_model=None)
def unquarantine_test_page(
    test_id: str, session: SessionDep, client: ClientDep, principal: Quarantiners
) -> Response:
    number = page_id(test_id, what="Test")
    service.lift(
        session, principal=principal, test_id=number, actor=Actor.of(principal), client=client
    )
    return done(f"/tests/{number}", "test-unquarantined")
