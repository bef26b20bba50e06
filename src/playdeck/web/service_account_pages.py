"""The forms of the Settings tab's Service accounts section: create and delete an account, make
and revoke its keys. For the project's managers (``members:manage``: project admins, owners,
administrators), through ``service_accounts.service``, the code behind
``/api/projects/{ref}/service-accounts``. A new key is shown once, on its own page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from playdeck.apikeys.schemas import ApiKey, ApiKeyCreate
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep, SettingsDep
from playdeck.errors import AppError
from playdeck.kit.clock import utcnow
from playdeck.projects.access import ProjectAccess, project_access
from playdeck.service_accounts import service
from playdeck.service_accounts.schemas import ProjectServiceAccountCreate
from playdeck.web.errors import Page
from playdeck.web.forms import NO_STORE, done, parse_form, refusals_on
from playdeck.web.params import page_id
from playdeck.web.rendering import render

router = APIRouter()

Managers = Annotated[ProjectAccess, project_access(Permission.MEMBERS_MANAGE)]
SECTION = "#service-accounts"


def _back(access: ProjectAccess) -> str:
    return f"/projects/{access.project.slug}/settings{SECTION}"


def _result_page(
    request: Request,
    principal: Principal,
    *,
    back: str,
    key: str | None = None,
    shown: ApiKey | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "projects/service_account_key.html",
        principal=principal,
        status_code=status_code,
        headers=dict(NO_STORE),
        back=back,
        key=key,
        shown=shown,
        error=error,
    )


def _refused_on(request: Request, access: ProjectAccess) -> Page:
    # Read now: the refusal is rendered after the request's session has ended.
    back, principal = _back(access), access.principal

    def page(session: Session, refusal: AppError) -> Response:
        return _result_page(
            request,
            principal,
            back=back,
            error=refusal.detail,
            status_code=refusal.status,
        )

    return page


@router.post(
    "/projects/{ref}/settings/service-accounts",
    response_class=HTMLResponse,
    response_model=None,
)
def create_service_account(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    access: Managers,
    name: Annotated[str, Form(max_length=40)] = "",
    role: Annotated[str, Form(max_length=16)] = "member",
    description: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Create a service account of the project."""
    with refusals_on(_refused_on(request, access)):
        data = parse_form(
            ProjectServiceAccountCreate,
            {"name": name, "role": role, "description": description.strip() or None},
        )
        service.create(
            session,
            principal=access.principal,
            settings=settings,
            data=data,
            project=access.project,
            client=client,
        )
    return done(_back(access), "service-account-created")


@router.post(
    "/projects/{ref}/settings/service-accounts/{account_id}/delete",
    response_class=HTMLResponse,
    response_model=None,
)
def delete_service_account(
    account_id: str, request: Request, session: SessionDep, client: ClientDep, access: Managers
) -> Response:
    """Delete a service account: its keys stop working at once."""
    with refusals_on(_refused_on(request, access)):
        service.delete(
            session,
            principal=access.principal,
            project=access.project,
            account_id=page_id(account_id, what="Service account"),
            client=client,
        )
    return done(_back(access), "service-account-deleted")


@router.post(
    "/projects/{ref}/settings/service-accounts/{account_id}/keys",
    response_class=HTMLResponse,
    response_model=None,
)
def create_service_account_key(
    account_id: str,
    request: Request,
    session: SessionDep,
    client: ClientDep,
    access: Managers,
    name: Annotated[str, Form(max_length=100)] = "",
    expires_in_days: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Make a key for the account, restricted to the project; shown once."""
    with refusals_on(_refused_on(request, access)):
        data = parse_form(
            ApiKeyCreate,
            {"name": name, "expires_at": _expiry(expires_in_days)},
        )
        created = service.create_key(
            session,
            principal=access.principal,
            project=access.project,
            account_id=page_id(account_id, what="Service account"),
            data=data,
            client=client,
        )
    shown = ApiKey.of(created.row, created.project)
    return _result_page(request, access.principal, back=_back(access), key=created.key, shown=shown)


def _expiry(days: str) -> str | None:
    """``expires_in_days`` as the API's ``expires_at`` (blank: never)."""
    days = days.strip()
    if not days:
        return None
    if not (days.isascii() and days.isdigit()) or not 1 <= int(days) <= 3650:
        return "invalid"  # the schema refuses it with its own message
    return (utcnow() + timedelta(days=int(days))).isoformat()


@router.post(
    "/projects/{ref}/settings/service-accounts/{account_id}/keys/{key_id}/revoke",
    response_class=HTMLResponse,
    response_model=None,
)
def revoke_service_account_key(
    account_id: str,
    key_id: str,
    request: Request,
    session: SessionDep,
    client: ClientDep,
    access: Managers,
) -> Response:
    """Revoke one of the account's keys at once."""
    with refusals_on(_refused_on(request, access)):
        service.revoke_key(
            session,
            principal=access.principal,
            project=access.project,
            account_id=page_id(account_id, what="Service account"),
            key_id=page_id(key_id, what="API key"),
            client=client,
        )
    return done(_back(access), "api-key-revoked")
