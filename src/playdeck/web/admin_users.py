"""``/admin/users`` (the JWT login API's path) and ``/settings/users`` (the PhenX dashboard's):
the users list and the form that creates an account.

One page at two paths. ``/admin/users`` is also the JWT login API's JSON list: this module serves
that path, the JSON to API callers and the page to browsers. The actions on one user are in
``web.admin_user_actions``. Everything calls the service the admin API calls (``users.service``);
its guards (the last active administrator, the only owner of a project, the password policy)
answer with their own message on the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from playdeck.auth.principal import GLOBAL_ROLES, GlobalRole, Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import PROJECT_ROLES, Permission
from playdeck.deps import SessionDep
from playdeck.errors import AppError, InvalidInput
from playdeck.kit.clock import utcnow
from playdeck.models import User
from playdeck.users import service as users_service
from playdeck.users.schemas import User as UserOut
from playdeck.users.schemas import UserAdminCreate, UserKind
from playdeck.web.errors import Page, prefers_html
from playdeck.web.forms import (
    NO_STORE,
    Confirmation,
    FormPost,
    PostDep,
    back_to,
    done,
    page_on,
    parse_form,
    refusals_on,
)
from playdeck.web.params import page_id, text
from playdeck.web.rendering import Notice, render
from playdeck.web.views import PageView, ViewDep

router = APIRouter()

Admin = Annotated[Principal, authorize(Permission.USERS_ADMIN)]
BackField = Annotated[str, Form(max_length=2000)]
BackQuery = Annotated[str | None, Query(max_length=2000)]


def target_user(user_id: str, session: SessionDep) -> User:
    """The user a page's ``{user_id}`` names, or 404. Declared after ``Admin``: whoever may not
    administer users is refused before anything tells them who exists."""
    return users_service.get_user(session, user_id=page_id(user_id, what="User"))


TargetUser = Annotated[User, Depends(target_user)]

USERS_PER_PAGE = 50
MAX_CURSOR = 1000
PAGE_PATHS = frozenset({"/admin/users", "/settings/users"})
DEFAULT_PAGE = "/admin/users"
STATUSES = ("active", "inactive")
KINDS = ((UserKind.PERSON.value, "people"), (UserKind.SERVICE.value, "service accounts"))
KINDS_BY_VALUE = {kind.value: kind for kind in UserKind}


def back_to_users(value: str | None) -> str:
    """The users page (with its filters) an action came from."""
    return back_to(value, allowed=PAGE_PATHS, default=DEFAULT_PAGE)


def user_confirmation(
    user: User, back: str, *, action: str, button: str, title: str, message: str, **more: Any
) -> Confirmation:
    """The confirmation step of an action on ``user`` from the users list (``back``): it posts
    to ``/admin/users/{id}/{action}`` and goes back to the list."""
    return Confirmation(
        title=title,
        message=message,
        action=f"/admin/users/{user.id}/{action}",
        button=button,
        back=back,
        crumbs=(("Administration", ""), ("Users", back)),
        **more,
    )


@dataclass(frozen=True, slots=True)
class UserFilters:
    q: str | None = None
    role: str | None = None
    status: str | None = None
    kind: UserKind | None = None

    @classmethod
    def of(cls, query: dict[str, list[str]]) -> UserFilters:
        def first(name: str) -> str | None:
            values = query.get(name)
            return text(values[0][:200]) if values else None

        kind = first("kind")
        if kind is not None and kind not in KINDS_BY_VALUE:
            raise InvalidInput(f"Unknown kind: {kind}", code="invalid_kind")
        filters = cls(
            q=first("q"),
            role=first("role"),
            status=first("status"),
            kind=None if kind is None else KINDS_BY_VALUE[kind],
        )
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
        return any((self.q, self.role, self.status, self.kind))

    def url(self, path: str, cursor: str | None = None) -> str:
        params = {
            "q": self.q,
            "role": self.role,
            "status": self.status,
            "kind": self.kind,
            "cursor": cursor,
        }
        query = urlencode({k: v for k, v in params.items() if v})
        return f"{path}?{query}" if query else path


@dataclass(frozen=True, slots=True)
class UserRow:
    user: User
    locked_until: datetime | None  # set only while the lock lasts
    is_self: bool
    # A service account's project (its slug), where its keys are managed; ``None``: a person,
    # or a global service account.
    service_project: str | None = None

    @classmethod
    def of(
        cls,
        user: User,
        principal: Principal,
        now: datetime,
        service_projects: dict[int, str | None],
    ) -> UserRow:
        locked = user.locked_until if user.locked_until and user.locked_until > now else None
        return cls(
            user=user,
            locked_until=locked,
            is_self=user.id == principal.user_id,
            service_project=service_projects.get(user.id),
        )


@dataclass(slots=True)
class UserForm:
    """The create form as typed (never the password), and what went wrong with it."""

    username: str = ""
    display_name: str = ""
    email: str = ""
    role: str = GlobalRole.USER
    error: str | None = None


def users_page(
    view: PageView,
    principal: Principal,
    *,
    location: str | None = None,
    form: UserForm | None = None,
    refusal: AppError | None = None,
) -> HTMLResponse:
    """The users list at ``location`` (path and query; default: the request's own), with the
    create form; after a ``refusal``, its message in ``form`` when the create form was refused,
    else as the page's notice."""
    request, session, settings = view.request, view.session, view.settings
    error = None
    if refusal is not None and form is not None:
        form.error = refusal.detail
    elif refusal is not None:
        error = refusal.detail
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
        kind=filters.kind,
        cursor=cursor,
        limit=USERS_PER_PAGE,
    )
    now = utcnow()
    service_projects = users_service.service_account_projects(session, rows)
    return render(
        request,
        "admin/users.html",
        principal=principal,
        status_code=refusal.status if refusal else 200,
        headers=dict(NO_STORE),
        notices=[Notice("error", error)] if error else None,
        page_path=parts.path,
        here=location,
        users=[UserRow.of(row, principal, now, service_projects) for row in rows],
        filters=filters,
        roles=GLOBAL_ROLES,
        project_roles=PROJECT_ROLES,  # the Invite panel's
        mail_configured=bool(settings.smtp_host),
        statuses=STATUSES,
        kinds=KINDS,
        form=form or UserForm(),
        auth_enabled=settings.require_auth,
        min_length=settings.password_min_length,
        next_url=filters.url(parts.path, next_cursor) if next_cursor else None,
        first_url=filters.url(parts.path) if cursor else None,
    )


def list_on(
    view: PageView, principal: Principal, location: str, form: UserForm | None = None
) -> Page:
    """The users list at ``location`` showing a refusal: in ``form`` when the create form was
    refused, else as the page's notice."""

    def show(reading: PageView, refusal: AppError) -> Response:
        return users_page(reading, principal, location=location, form=form, refusal=refusal)

    return page_on(view, show)


@contextmanager
def from_users_list(post: FormPost, principal: Principal, back: str) -> Iterator[str]:
    """Around an action posted from the users list: where it returns (``back``, checked), and
    its refusal shown there."""
    target = back_to_users(back)
    with refusals_on(list_on(post, principal, target)):
        yield target


def _wants_page(request: Request) -> bool:
    """A browser: no ``Authorization`` or API-key header (an API client), and HTML preferred
    over JSON (curl's ``*/*`` and the dashboard's own ``fetch()`` get JSON)."""
    if request.headers.get("authorization") or request.headers.get("x-api-key"):
        return False
    return prefers_html(request)


@router.get("/admin/users", response_model=None)
def show_users(view: ViewDep, principal: Admin) -> list[UserOut] | Response:
    """The JWT login API's user list (one JSON list) for API callers; for a browser the users
    page."""
    if _wants_page(view.request):
        return users_page(view, principal)
    return [UserOut.of(row) for row in users_service.list_all_users(view.session)]


@router.get("/settings/users", response_class=HTMLResponse)
def show_settings_users(view: ViewDep, principal: Admin) -> HTMLResponse:
    """The PhenX dashboard's path for the same page."""
    return users_page(view, principal)


@router.post("/admin/users/new", response_class=HTMLResponse, response_model=None)
def create_user(
    post: PostDep,
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
    with refusals_on(list_on(post, principal, target, form)):
        data = parse_form(
            UserAdminCreate,
            {
                "username": username.strip(),
                "password": password,
                "role": role or None,
                "name": text(display_name),
                "email": text(email),
            },
        )
        users_service.create_by_admin(
            post.session, settings=post.settings, data=data, principal=principal, client=post.client
        )
    return done(target, "user-created")
