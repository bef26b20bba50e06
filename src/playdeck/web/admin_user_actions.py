"""The actions on one user of the users list (``web.admin_users``): activate or deactivate,
change the global role, lift a lockout, reset the password, delete.

Each posts from the list (or its own confirmation page) and returns there; a refusal of the
service (``users.service``: the last active administrator, the only owner of a project, the
password policy) is shown on the page the form came from.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from playdeck.audit.service import Actor
from playdeck.auth.client import ClientInfo
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import GLOBAL_ROLES, GlobalRole, Principal
from playdeck.deps import SessionDep, SettingsDep
from playdeck.errors import AppError, InvalidInput
from playdeck.models import User
from playdeck.settings import Settings
from playdeck.users import service as users_service
from playdeck.users.schemas import UserAdminUpdate
from playdeck.web.admin_users import Admin, BackField, back_to_users, list_on
from playdeck.web.errors import Page
from playdeck.web.forms import (
    Confirmation,
    confirm_page,
    confirmation_on,
    done,
    form_page,
    parse_form,
    refusals_on,
)
from playdeck.web.params import page_id

router = APIRouter()

BackQuery = Annotated[str | None, Query(max_length=2000)]


def _user(session: Session, user_id: str) -> User:
    return users_service.get_user(session, user_id=page_id(user_id, what="User"))


def _update(
    session: Session,
    settings: Settings,
    client: ClientInfo,
    principal: Principal,
    user: User,
    changes: dict[str, object],
) -> None:
    users_service.update_user(
        session,
        user=user,
        data=parse_form(UserAdminUpdate, changes),
        actor=Actor.of(principal),
        settings=settings,
        client=client,
    )


@router.post("/admin/users/{user_id}/active", response_class=HTMLResponse, response_model=None)
def set_user_active(
    user_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: Admin,
    active: Annotated[str, Form()] = "",
    back: BackField = "",
) -> Response:
    """Activate or deactivate; deactivating ends every session, and the user's API keys stop
    working. Refused (409) for the last active administrator."""
    target = back_to_users(back)
    user = _user(session, user_id)
    if active not in ("true", "false"):
        raise InvalidInput("active must be true or false", code="invalid_active")
    with refusals_on(list_on(request, principal, target)):
        _update(session, settings, client, principal, user, {"is_active": active == "true"})
    return done(target, "user-activated" if active == "true" else "user-deactivated")


@router.get("/admin/users/{user_id}/role", response_class=HTMLResponse)
def confirm_user_role(
    user_id: str,
    request: Request,
    session: SessionDep,
    principal: Admin,
    role: Annotated[str, Query(max_length=20)] = "admin",
    back: BackQuery = None,
) -> HTMLResponse:
    """The confirmation step of a role change: making someone an administrator gives them
    every permission on every project, so it takes a second, deliberate click."""
    user = _user(session, user_id)
    if role not in GLOBAL_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(GLOBAL_ROLES)}", code="invalid_role")
    promote = role == GlobalRole.ADMIN
    target = back_to_users(back)
    return confirm_page(
        request,
        principal,
        Confirmation(
            title=f"Make {user.username} an administrator"
            if promote
            else f"Change {user.username}'s role",
            message=(
                f"Make {user.username} an administrator? They will be able to see and change "
                "every project, user, API key and setting, and to make others administrators."
                if promote
                else f"Change {user.username}'s role to {role}?"
            ),
            action=f"/admin/users/{user.id}/role",
            button="Make administrator" if promote else f"Change to {role}",
            back=target,
            crumbs=(("Administration", ""), ("Users", target)),
            fields={"role": role},
        ),
    )


@router.post("/admin/users/{user_id}/role", response_class=HTMLResponse, response_model=None)
def set_user_role(
    user_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: Admin,
    role: Annotated[str, Form()] = "",
    back: BackField = "",
) -> Response:
    """Promote to or demote from administrator (any global role is accepted). Refused (409)
    for the last active administrator."""
    target = back_to_users(back)
    user = _user(session, user_id)
    if role not in GLOBAL_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(GLOBAL_ROLES)}", code="invalid_role")
    with refusals_on(list_on(request, principal, target)):
        _update(session, settings, client, principal, user, {"role": role})
    return done(target, "user-role-changed")


@router.post("/admin/users/{user_id}/unlock", response_class=HTMLResponse, response_model=None)
def unlock_user(
    user_id: str,
    request: Request,
    session: SessionDep,
    client: ClientDep,
    principal: Admin,
    back: BackField = "",
) -> Response:
    """Lift a login lockout now instead of waiting it out."""
    target = back_to_users(back)
    user = _user(session, user_id)
    with refusals_on(list_on(request, principal, target)):
        users_service.unlock(session, user=user, actor=Actor.of(principal), client=client)
    return done(target, "user-unlocked")


def _password_page(
    request: Request,
    principal: Principal,
    settings: Settings,
    user: User,
    back: str,
    *,
    refusal: AppError | None = None,
) -> HTMLResponse:
    return form_page(
        request,
        principal,
        "admin/user_password.html",
        refusal=refusal,
        user=user,
        back=back,
        min_length=settings.password_min_length,
    )


def _password_page_on(
    request: Request, principal: Principal, settings: Settings, user_id: str, back: str
) -> Page:
    def page(session: Session, refusal: AppError) -> Response:
        user = _user(session, user_id)
        return _password_page(request, principal, settings, user, back, refusal=refusal)

    return page


@router.get("/admin/users/{user_id}/password", response_class=HTMLResponse)
def show_reset_password(
    user_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Admin,
    back: BackQuery = None,
) -> HTMLResponse:
    user = _user(session, user_id)
    return _password_page(request, principal, settings, user, back_to_users(back))


@router.post("/admin/users/{user_id}/password", response_class=HTMLResponse, response_model=None)
def reset_password(
    user_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: Admin,
    new_password: Annotated[str, Form()] = "",
    new_password_confirm: Annotated[str, Form()] = "",
    back: BackField = "",
) -> Response:
    """Set a new password: the lock is lifted and every session of the user ends."""
    target = back_to_users(back)
    user = _user(session, user_id)
    with refusals_on(_password_page_on(request, principal, settings, user_id, target)):
        if new_password != new_password_confirm:
            raise InvalidInput("The two passwords do not match.")
        _update(session, settings, client, principal, user, {"password": new_password})
    return done(target, "user-password-reset")


def _deletion(principal: Principal, user: User, back: str) -> Confirmation:
    return Confirmation(
        title=f"Delete {user.username}",
        message=(
            f"Delete the account {user.username}? Their sessions, API keys and project "
            "memberships go with it. This cannot be undone; deactivating keeps the account."
        ),
        warning="This is your own account." if user.id == principal.user_id else None,
        action=f"/admin/users/{user.id}/delete",
        button="Delete user",
        back=back,
        crumbs=(("Administration", ""), ("Users", back)),
    )


@router.get("/admin/users/{user_id}/delete", response_class=HTMLResponse)
def confirm_delete_user(
    user_id: str,
    request: Request,
    session: SessionDep,
    principal: Admin,
    back: BackQuery = None,
) -> HTMLResponse:
    user = _user(session, user_id)
    return confirm_page(request, principal, _deletion(principal, user, back_to_users(back)))


@router.post("/admin/users/{user_id}/delete", response_class=HTMLResponse, response_model=None)
def delete_user(
    user_id: str,
    request: Request,
    session: SessionDep,
    client: ClientDep,
    principal: Admin,
    back: BackField = "",
) -> Response:
    """Delete an account. Refused (409) for the last active administrator and for the only
    owner of a project: the confirmation page shows why."""
    target = back_to_users(back)
    user = _user(session, user_id)
    page = confirmation_on(
        request, principal, lambda reading: _deletion(principal, _user(reading, user_id), target)
    )
    with refusals_on(page):
        users_service.delete_user(session, user=user, actor=Actor.of(principal), client=client)
    return done(target, "user-deleted")
