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
from pydantic import BaseModel, Field

from playdeck.apikeys.schemas import ApiKey, ApiKeyCreate
from playdeck.authz.permissions import Permission
from playdeck.kit.clock import utcnow
from playdeck.projects.access import ProjectAccess
from playdeck.projects.dependencies import project_access
from playdeck.service_accounts import service
from playdeck.service_accounts.schemas import ProjectServiceAccountCreate
from playdeck.web.errors import Page
from playdeck.web.forms import PostDep, done, form_page, form_page_on, parse_form, refusals_on
from playdeck.web.params import page_id

# The Settings tab's section: every form here posts under its path.
router = APIRouter(prefix="/projects/{ref}/settings/service-accounts")

Managers = Annotated[ProjectAccess, project_access(Permission.MEMBERS_MANAGE)]
SECTION = "#service-accounts"
KEY_PAGE = "projects/service_account_key.html"


class AccountFields(BaseModel):
    """What the form that creates a service account posts."""

    name: Annotated[str, Field(max_length=40)] = ""
    role: Annotated[str, Field(max_length=16)] = "member"
    description: Annotated[str, Field(max_length=200)] = ""


class KeyFields(BaseModel):
    """What the form that makes an account's key posts (blank days: it never expires)."""

    name: Annotated[str, Field(max_length=100)] = ""
    expires_in_days: Annotated[str, Field(max_length=5)] = ""


def _back(access: ProjectAccess) -> str:
    return f"/projects/{access.project.slug}/settings{SECTION}"


def _refused_on(request: Request, access: ProjectAccess) -> Page:
    """The key page showing only why the post was refused, and the way back."""
    return form_page_on(request, access.principal, KEY_PAGE, back=_back(access))


@router.post("", response_class=HTMLResponse, response_model=None)
def create_service_account(
    post: PostDep, access: Managers, fields: Annotated[AccountFields, Form()]
) -> Response:
    """Create a service account of the project."""
    with refusals_on(_refused_on(post.request, access)):
        description = fields.description.strip() or None
        data = parse_form(
            ProjectServiceAccountCreate,
            {"name": fields.name, "role": fields.role, "description": description},
        )
        service.create(
            post.session,
            principal=access.principal,
            settings=post.settings,
            data=data,
            project=access.project,
            client=post.client,
        )
    return done(_back(access), "service-account-created")


@router.post("/{account_id}/delete", response_class=HTMLResponse, response_model=None)
def delete_service_account(account_id: str, post: PostDep, access: Managers) -> Response:
    """Delete a service account: its keys stop working at once."""
    with refusals_on(_refused_on(post.request, access)):
        service.delete(
            post.session,
            principal=access.principal,
            project=access.project,
            account_id=page_id(account_id, what="Service account"),
            client=post.client,
        )
    return done(_back(access), "service-account-deleted")


@router.post("/{account_id}/keys", response_class=HTMLResponse, response_model=None)
def create_service_account_key(
    account_id: str, post: PostDep, access: Managers, fields: Annotated[KeyFields, Form()]
) -> Response:
    """Make a key for the account, restricted to the project; shown once."""
    with refusals_on(_refused_on(post.request, access)):
        expires = _expiry(fields.expires_in_days)
        data = parse_form(ApiKeyCreate, {"name": fields.name, "expires_at": expires})
        created = service.create_key(
            post.session,
            principal=access.principal,
            project=access.project,
            account_id=page_id(account_id, what="Service account"),
            data=data,
            client=post.client,
        )
    shown = ApiKey.of(created.row, created.project)
    return form_page(
        post.request, access.principal, KEY_PAGE, back=_back(access), key=created.key, shown=shown
    )


def _expiry(days: str) -> str | None:
    """``expires_in_days`` as the API's ``expires_at`` (blank: never)."""
    days = days.strip()
    if not days:
        return None
    if not (days.isascii() and days.isdigit()) or not 1 <= int(days) <= 3650:
        return "invalid"  # the schema refuses it with its own message
    return (utcnow() + timedelta(days=int(days))).isoformat()


@router.post("/{account_id}/keys/{key_id}/revoke", response_class=HTMLResponse, response_model=None)
def revoke_service_account_key(
    account_id: str,
    key_id: str,
    post: PostDep,
    access: Managers,
) -> Response:
    """Revoke one of the account's keys at once."""
    with refusals_on(_refused_on(post.request, access)):
        service.revoke_key(
            post.session,
            principal=access.principal,
            project=access.project,
            account_id=page_id(account_id, what="Service account"),
            key_id=page_id(key_id, what="API key"),
            client=post.client,
        )
    return done(_back(access), "api-key-revoked")
