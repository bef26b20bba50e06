"""The actions on one user of the users list (``web.admin_users``): activate or deactivate,
change the global role, lift a lockout, reset the password or the second factor, delete.

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
from playdeck.auth.principal import GLOBAL_ROLES, GlobalRole, Principal
from playdeck.errors import AppError, InvalidInput
from playdeck.models import User
from playdeck.twofactor import service as two_factor
from playdeck.users import service as users_service
from playdeck.users.schemas import UserAdminUpdate
from playdeck.web.admin_users import (
    Admin,
    BackField,
    BackQuery,
    TargetUser,
    back_to_users,
    from_users_list,
    user_confirmation,
)
from playdeck.web.errors import Page
from playdeck.web.forms import (
    Confirmation,
    FormPost,
    PostDep,
    confirm_page,
    confirmation_on,
    done,
    form_page,
    page_on,
    parse_form,
    refusals_on,
)
from playdeck.web.views import PageView, ViewDep

router = APIRouter()


def _update(post: FormPost, principal: Principal, user: User, changes: dict[str, object]) -> None:
    users_service.update_user(
        post.session,
        user=user,
        data=parse_form(UserAdminUpdate, changes),
        actor=Actor.of(principal),
        settings=post.settings,
        client=post.client,
    )


def _checked_role(role: str) -> str:
    if role not in GLOBAL_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(GLOBAL_ROLES)}", code="invalid_role")
    return role


@router.post("/admin/users/{user_id}/active", response_class=HTMLResponse, response_model=None)
def set_user_active(
    post: PostDep,
    principal: Admin,
    user: TargetUser,
    active: Annotated[str, Form()] = "",
    back: BackField = "",
) -> Response:
    """Activate or deactivate; deactivating ends every session, and the user's API keys stop
    working. Refused (409) for the last active administrator."""
    if active not in ("true", "false"):
        raise InvalidInput("active must be true or false", code="invalid_active")
    with from_users_list(post, principal, back) as target:
        _update(post, principal, user, {"is_active": active == "true"})
    return done(target, "user-activated" if active == "true" else "user-deactivated")


@router.get("/admin/users/{user_id}/role", response_class=HTMLResponse)
def confirm_user_role(
    request: Request,
    principal: Admin,
    user: TargetUser,
    role: Annotated[str, Query(max_length=20)] = "admin",
    back: BackQuery = None,
) -> HTMLResponse:
    """The confirmation step of a role change: making someone an administrator gives them
    every permission on every project, so it takes a second, deliberate click."""
    role = _checked_role(role)
    promote = role == GlobalRole.ADMIN
    return confirm_page(
        request,
        principal,
        user_confirmation(
            user,
            back_to_users(back),
            action="role",
            button="Make administrator" if promote else f"Change to {role}",
            title=f"Make {user.username} an administrator"
            if promote
            else f"Change {user.username}'s role",
            message=(
                f"Make {user.username} an administrator? They will be able to see and change "
                "every project, user, API key and setting, and to make others administrators."
                if promote
                else f"Change {user.username}'s role to {role}?"
            ),
            fields={"role": role},
        ),
    )


@router.post("/admin/users/{user_id}/role", response_class=HTMLResponse, response_model=None)
def set_user_role(
    post: PostDep,
    principal: Admin,
    user: TargetUser,
    role: Annotated[str, Form()] = "",
    back: BackField = "",
) -> Response:
    """Promote to or demote from administrator (any global role is accepted). Refused (409)
    for the last active administrator."""
    role = _checked_role(role)
    with from_users_list(post, principal, back) as target:
        _update(post, principal, user, {"role": role})
    return done(target, "user-role-changed")


@router.post("/admin/users/{user_id}/unlock", response_class=HTMLResponse, response_model=None)
def unlock_user(
    post: PostDep, principal: Admin, user: TargetUser, back: BackField = ""
) -> Response:
    """Lift a login lockout now instead of waiting it out."""
    with from_users_list(post, principal, back) as target:
        users_service.unlock(post.session, user=user, actor=Actor.of(principal), client=post.client)
    return done(target, "user-unlocked")


def _password_page(
    view: PageView, principal: Principal, user: User, back: str, refusal: AppError | None = None
) -> HTMLResponse:
    return form_page(
        view.request,
        principal,
        "admin/user_password.html",
        refusal=refusal,
        user=user,
        back=back,
        min_length=view.settings.password_min_length,
    )


def _password_page_on(post: FormPost, principal: Principal, user_id: int, back: str) -> Page:
    def show(view: PageView, refusal: AppError) -> Response:
        user = users_service.get_user(view.session, user_id=user_id)
        return _password_page(view, principal, user, back, refusal)

    return page_on(post, show)


@router.get("/admin/users/{user_id}/password", response_class=HTMLResponse)
def show_reset_password(
    view: ViewDep, principal: Admin, user: TargetUser, back: BackQuery = None
) -> HTMLResponse:
    return _password_page(view, principal, user, back_to_users(back))


@router.post("/admin/users/{user_id}/password", response_class=HTMLResponse, response_model=None)
def reset_password(
    post: PostDep,
    principal: Admin,
    user: TargetUser,
    new_password: Annotated[str, Form()] = "",
    new_password_confirm: Annotated[str, Form()] = "",
    back: BackField = "",
) -> Response:
    """Set a new password: the lock is lifted and every session of the user ends."""
    target = back_to_users(back)
    with refusals_on(_password_page_on(post, principal, user.id, target)):
        if new_password != new_password_confirm:
            raise InvalidInput("The two passwords do not match.")
        _update(post, principal, user, {"password": new_password})
    return done(target, "user-password-reset")


def _deletion(principal: Principal, user: User, back: str) -> Confirmation:
    return user_confirmation(
        user,
        back,
        action="delete",
        button="Delete user",
        title=f"Delete {user.username}",
        message=(
            f"Delete the account {user.username}? Their sessions, API keys and project "
            "memberships go with it. This cannot be undone; deactivating keeps the account."
        ),
        warning="This is your own account." if user.id == principal.user_id else None,
    )


@router.get("/admin/users/{user_id}/delete", response_class=HTMLResponse)
def confirm_delete_user(
    request: Request, principal: Admin, user: TargetUser, back: BackQuery = None
) -> HTMLResponse:
    return confirm_page(request, principal, _deletion(principal, user, back_to_users(back)))


@router.post("/admin/users/{user_id}/delete", response_class=HTMLResponse, response_model=None)
def delete_user(
    post: PostDep, principal: Admin, user: TargetUser, back: BackField = ""
) -> Response:
    """Delete an account. Refused (409) for the last active administrator and for the only
    owner of a project: the confirmation page shows why."""
    target = back_to_users(back)
    user_id = user.id  # read now: the refusal's page is rendered after a rollback

    def deletion(reading: Session) -> Confirmation:
        return _deletion(principal, users_service.get_user(reading, user_id=user_id), target)

    with refusals_on(confirmation_on(post.request, principal, deletion)):
        users_service.delete_user(
            post.session, user=user, actor=Actor.of(principal), client=post.client
        )
    return done(target, "user-deleted")


def _reset_confirmation(enabled: bool, user: User, back: str) -> Confirmation:
    return user_confirmation(
        user,
        back,
        action="two-factor/reset",
        button="Reset two-factor authentication",
        title=f"Reset two-factor authentication of {user.username}",
        message=(
            f"Remove {user.username}'s authenticator app and recovery codes? They then sign in "
            "with their password alone, and can set up two-factor authentication again."
            if enabled
            else f"{user.username} has no two-factor authentication on; resetting removes any "
            "enrolment they started."
        ),
    )


@router.get("/admin/users/{user_id}/two-factor/reset", response_class=HTMLResponse)
def confirm_reset_two_factor(
    view: ViewDep, principal: Admin, user: TargetUser, back: BackQuery = None
) -> HTMLResponse:
    """The confirmation step of an administrator's reset of someone's second factor."""
    enabled = two_factor.status(view.session, settings=view.settings, user=user).enabled
    confirmation = _reset_confirmation(enabled, user, back_to_users(back))
    return confirm_page(view.request, principal, confirmation)


@router.post("/admin/users/{user_id}/two-factor/reset", response_model=None)
def reset_two_factor(
    post: PostDep, principal: Admin, user: TargetUser, back: BackField = ""
) -> Response:
    """Remove a user's second factor (audited as ``two_factor.reset``)."""
    with from_users_list(post, principal, back) as target:
        two_factor.reset(post.session, user=user, actor=Actor.of(principal), client=post.client)
    return done(target, "two-factor-reset")
