"""``/admin/users`` (the JWT login API's path) and ``/settings/users`` (the PhenX dashboard's):
user administration.

One page at two paths. ``/settings/users`` is a page route; ``/admin/users`` is also the JWT login
API's JSON list, so ``users.endpoints`` serves it and hands browsers to ``users_page`` through
``app.state.admin_users_page`` (installed by ``web.router``). Every action calls the service the
admin API calls (``users.service``); its guards (the last active administrator, the only owner of
a project, the password policy) answer with their own message on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from playdeck.audit.service import Actor
from playdeck.auth.client import ClientInfo
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import GLOBAL_ROLES, GlobalRole, Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import authorize
from playdeck.deps import SessionDep, SettingsDep
from playdeck.errors import AppError, InvalidInput
from playdeck.kit.clock import utcnow
from playdeck.models import User
from playdeck.settings import Settings
from playdeck.users import service as users_service
from playdeck.users.schemas import UserAdminCreate, UserAdminUpdate
from playdeck.web.forms import NO_STORE, back_to, confirm_page, done, form_error
from playdeck.web.params import page_id, text
from playdeck.web.rendering import Notice, render

router = APIRouter()

Admin = Annotated[Principal, authorize(Permission.USERS_ADMIN)]
BackField = Annotated[str, Form(max_length=2000)]
BackQuery = Annotated[str | None, Query(max_length=2000)]

USERS_PER_PAGE = 50
MAX_CURSOR = 1000
PAGE_PATHS = frozenset({"/admin/users", "/settings/users"})
DEFAULT_PAGE = "/admin/users"
STATUSES = ("active", "inactive")


def back_to_users(value: str | None) -> str:
    """The users page (with its filters) an action came from."""
    return back_to(value, allowed=PAGE_PATHS, default=DEFAULT_PAGE)


@dataclass(frozen=True, slots=True)
class UserFilters:
    q: str | None = None
    role: str | None = None
    status: str | None = None

    @classmethod
    def of(cls, query: dict[str, list[str]]) -> UserFilters:
        def first(name: str) -> str | None:
            values = query.get(name)
            return text(values[0][:200]) if values else None

        filters = cls(q=first("q"), role=first("role"), status=first("status"))
        if filters.role is not None and filters.role not in GLOBAL_ROLES:
            raise InvalidInput(f"Unknown role: {filters.role}", code="invalid_role")
        if filters.status is not None and filters.status not in STATUSES:
            raise InvalidInput(f"Unknown status: {filters.status}", code="invalid_status")
        return filters

    @property
    def active(self) -> bool | None:
        return None if self.status is None else self.status == "active"

    @property
    def any(self) -> bool:
        return any((self.q, self.role, self.status))

    def url(self, path: str, cursor: str | None = None) -> str:
        params = {"q": self.q, "role": self.role, "status": self.status, "cursor": cursor}
        query = urlencode({k: v for k, v in params.items() if v})
        return f"{path}?{query}" if query else path


@dataclass(frozen=True, slots=True)
class UserRow:
    user: User
    locked_until: datetime | None  # set only while the lock lasts
    is_self: bool

    @classmethod
    def of(cls, user: User, principal: Principal, now: datetime) -> UserRow:
        locked = user.locked_until if user.locked_until and user.locked_until > now else None
        return cls(user=user, locked_until=locked, is_self=user.id == principal.user_id)


@dataclass(slots=True)
class UserForm:
    """The create form as typed (never the password), and what went wrong with it."""

    username: str = ""
    display_name: str = ""
    email: str = ""
    role: str = GlobalRole.USER
    error: str | None = None


def users_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    location: str | None = None,
    form: UserForm | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The users list at ``location`` (path and query; default: the request's own), with the
    create form. Also what ``users.endpoints`` calls for a browser at ``/admin/users``."""
    settings: Settings = request.app.state.settings
    if location is None:
        query = request.url.query
        location = f"{request.url.path}?{query}" if query else request.url.path
    parts = urlsplit(location)
    params = parse_qs(parts.query)
    filters = UserFilters.of(params)
    cursor = params["cursor"][0] if params.get("cursor") else None
    if cursor is not None and len(cursor) > MAX_CURSOR:
        raise InvalidInput("Invalid cursor", code="invalid_cursor")
    rows, next_cursor = users_service.list_users(
        session,
        q=filters.q,
        role=filters.role,
        active=filters.active,
        cursor=cursor,
        limit=USERS_PER_PAGE,
    )
    now = utcnow()
    return render(
        request,
        "admin/users.html",
        principal=principal,
        status_code=status_code,
        headers=dict(NO_STORE),
        notices=[Notice("error", error)] if error else None,
        page_path=parts.path,
        here=location,
        users=[UserRow.of(row, principal, now) for row in rows],
        filters=filters,
        roles=GLOBAL_ROLES,
        statuses=STATUSES,
        form=form or UserForm(),
        auth_enabled=settings.require_auth,
        min_length=settings.password_min_length,
        next_url=filters.url(parts.path, next_cursor) if next_cursor else None,
        first_url=filters.url(parts.path) if cursor else None,
    )


def show_users_page(request: Request, session: Session, principal: Principal) -> Response:
    """The page behind ``GET /admin/users`` for browsers (``users.endpoints.AdminUsersPage``)."""
    return users_page(request, session, principal)


@router.get("/settings/users", response_class=HTMLResponse)
def show_settings_users(request: Request, session: SessionDep, principal: Admin) -> HTMLResponse:
    """The PhenX dashboard's path for the same page."""
    return users_page(request, session, principal)


def _user(session: Session, user_id: str) -> User:
    return users_service.get_user(session, user_id=page_id(user_id, what="User"))


def _refused(
    request: Request, session: Session, principal: Principal, back: str, exc: AppError
) -> HTMLResponse:
    session.rollback()  # nothing the refused action flushed may commit with the page
    return users_page(
        request, session, principal, location=back, error=exc.detail, status_code=exc.status
    )


@router.post("/admin/users/new", response_class=HTMLResponse, response_model=None)
def create_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: Admin,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "user",
    display_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    back: BackField = "",
) -> Response:
    """Create an account, as ``POST /api/admin/users`` does (the password policy applies)."""
    target = back_to_users(back)
    form = UserForm(username=username, display_name=display_name, email=email, role=role)
    try:
        data = UserAdminCreate.model_validate(
            {
                "username": username.strip(),
                "password": password,
                "role": role or None,
                "name": text(display_name),
                "email": text(email),
            }
        )
        users_service.create_user(
            session,
            settings=settings,
            username=data.username,
            password=data.password,
            email=data.email,
            display_name=data.name,
            role=data.effective_role,
            actor=Actor.of(principal),
            client=client,
            via="admin",
        )
    except ValidationError as exc:
        form.error, status = form_error(exc), 422
    except AppError as exc:
        session.rollback()
        form.error, status = exc.detail, exc.status
    else:
        return done(target, "user-created")
    return users_page(request, session, principal, location=target, form=form, status_code=status)


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
        data=UserAdminUpdate.model_validate(changes),
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
    try:
        _update(session, settings, client, principal, user, {"is_active": active == "true"})
    except AppError as exc:
        return _refused(request, session, principal, target, exc)
    return done(target, "user-activated" if active == "true" else "user-deactivated")


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
    try:
        _update(session, settings, client, principal, user, {"role": role})
    except AppError as exc:
        return _refused(request, session, principal, target, exc)
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
    try:
        users_service.unlock(session, user=user, actor=Actor.of(principal), client=client)
    except AppError as exc:
        return _refused(request, session, principal, target, exc)
    return done(target, "user-unlocked")


def _password_page(
    request: Request,
    principal: Principal,
    settings: Settings,
    user: User,
    back: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/user_password.html",
        principal=principal,
        status_code=status_code,
        headers=dict(NO_STORE),
        user=user,
        back=back,
        error=error,
        min_length=settings.password_min_length,
    )


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
    if new_password != new_password_confirm:
        return _password_page(
            request,
            principal,
            settings,
            user,
            target,
            error="The two passwords do not match.",
            status_code=422,
        )
    try:
        _update(session, settings, client, principal, user, {"password": new_password})
    except ValidationError as exc:
        error, status = form_error(exc), 422
    except AppError as exc:
        session.rollback()
        error, status = exc.detail, exc.status
    else:
        return done(target, "user-password-reset")
    user = _user(session, user_id)  # the rollback expired it
    return _password_page(
        request, principal, settings, user, target, error=error, status_code=status
    )


def _delete_page(
    request: Request,
    principal: Principal,
    user: User,
    back: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return confirm_page(
        request,
        principal,
        title=f"Delete {user.username}",
        message=(
            f"Delete the account {user.username}? Their sessions, API keys and project "
            "memberships go with it. This cannot be undone; deactivating keeps the account."
        ),
        warning="This is your own account." if user.id == principal.user_id else None,
        action=f"/admin/users/{user.id}/delete",
        button="Delete user",
        back=back,
        crumbs=[("Administration", ""), ("Users", back)],
        error=error,
        status_code=status_code,
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
    return _delete_page(request, principal, user, back_to_users(back))


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
    try:
        users_service.delete_user(session, user=user, actor=Actor.of(principal), client=client)
    except AppError as exc:
        session.rollback()
        user = _user(session, user_id)
        return _delete_page(
            request, principal, user, target, error=exc.detail, status_code=exc.status
        )
    return done(target, "user-deleted")
