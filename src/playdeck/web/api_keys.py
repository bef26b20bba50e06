"""What the API-key pages share: the keys section (a user's keys and the form that creates one),
the keys page, creating a key and the revocation step. The routes are in ``web.own_api_keys``
(your own keys: ``/account/api-keys``, also a section of ``/account``) and
``web.admin_api_keys`` (anyone's, for administrators: ``/admin/users/{id}/keys``).

Everything goes through ``apikeys.service``, the code behind ``/api/users/{id}/api-keys``, which
also decides who may manage whose keys (reporters and API-key callers may not). The key itself
is shown once, in the response to the form that created it (``Cache-Control: no-store``); it is
never put in a cookie, a URL or a log, and only its hash is stored, so no page can show it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from playdeck.apikeys import service as keys_service
from playdeck.apikeys.format import display
from playdeck.apikeys.schemas import ApiKey, ApiKeyCreate
from playdeck.apikeys.scopes import Scope
from playdeck.auth.principal import Principal
from playdeck.errors import AppError, Forbidden
from playdeck.models import ApiKey as ApiKeyRow
from playdeck.models import Project, User
from playdeck.projects import service as projects_service
from playdeck.users import service as users_service
from playdeck.web.forms import (
    NO_STORE,
    Confirmation,
    FormPost,
    confirm_page,
    page_on,
    parse_form,
    refusals_on,
)
from playdeck.web.params import day, day_after, page_id, text
from playdeck.web.rendering import render
from playdeck.web.views import PageView

BackField = Annotated[str, Form(max_length=2000)]
BackQuery = Annotated[str | None, Query(max_length=2000)]

OWN_KEYS = "/account/api-keys"
OWN_PLACES = frozenset({"/account", OWN_KEYS})
# Projects offered for a key's restriction (any other can still be typed by slug or id).
PROJECT_CHOICES = 200
SCOPE_LABELS: tuple[tuple[str, str], ...] = (
    (Scope.RUNS_WRITE.value, "submit results (upload runs)"),
    (Scope.READ.value, "read projects and results"),
)
# A new key's plaintext never stays in a cache, a proxy or the browser's history entry.
SECRET_HEADERS = {**NO_STORE, "Pragma": "no-cache"}


@dataclass(slots=True)
class KeyForm:
    """The create form as typed, and what went wrong with it."""

    name: str = ""
    expires: str = ""
    project: str = ""
    scopes: Sequence[str] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just created: the plaintext, for this one response."""

    key: str
    info: ApiKey


@dataclass(frozen=True, slots=True)
class KeysView:
    """What ``keys/_section.html`` shows: the list, the create form, or why neither."""

    base: str  # the forms post to base, revocations to base/{key id}/revoke
    back: str  # where a revocation returns to
    keys: list[ApiKey] = field(default_factory=list)
    form: KeyForm = field(default_factory=KeyForm)
    projects: list[Project] = field(default_factory=list)
    scopes: tuple[tuple[str, str], ...] = SCOPE_LABELS
    refusal: str | None = None


def keys_view(
    session: Session,
    principal: Principal,
    *,
    user_id: int,
    base: str,
    back: str,
    form: KeyForm | None = None,
) -> KeysView:
    """The keys of ``user_id`` as ``principal`` may see them. The service's refusal of a
    reporter or an API-key caller becomes the section's message; an unknown user is a 404."""
    try:
        rows = keys_service.list_user_keys(session, principal=principal, user_id=user_id)
    except Forbidden as exc:
        return KeysView(base=base, back=back, refusal=exc.detail)
    projects, _next = projects_service.list_projects(
        session, principal=principal, q=None, cursor=None, limit=PROJECT_CHOICES
    )
    return KeysView(
        base=base,
        back=back,
        keys=[ApiKey.of(row, project) for row, project in rows],
        form=form or KeyForm(),
        projects=projects,
    )


def own_keys_view(session: Session, principal: Principal) -> KeysView | None:
    """The account page's section; ``None`` for a principal without an account."""
    if principal.user_id is None:
        return None
    return keys_view(session, principal, user_id=principal.user_id, base=OWN_KEYS, back="/account")


def keys_page(
    page: PageView,
    principal: Principal,
    *,
    owner: User,
    view: KeysView,
    created: NewKey | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    own = owner.id == principal.user_id and view.base == OWN_KEYS
    request, settings = page.request, page.settings
    return render(
        request,
        "keys/page.html",
        principal=principal,
        # The page is about nothing else: a refusal (a reporter, an API-key caller) is its status.
        status_code=403 if view.refusal and status_code < 400 else status_code,
        headers=dict(SECRET_HEADERS),
        owner=owner,
        own=own,
        view=view,
        created=created,
        server=page.links,
        auth_enabled=settings.require_auth,
    )


def key_form(
    name: Annotated[str, Form()] = "",
    expires: Annotated[str, Form(max_length=20)] = "",
    project: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
) -> KeyForm:
    """The create form's fields, as typed (a dependency of both create routes)."""
    return KeyForm(name=name, expires=expires, project=project, scopes=tuple(scopes or ()))


KeyFormDep = Annotated[KeyForm, Depends(key_form)]


def create_key(
    post: FormPost, principal: Principal, *, user_id: int, base: str, back: str, form: KeyForm
) -> HTMLResponse:
    """Create the key and answer with the page that shows it, once; or the form with why not."""

    def shown(page: PageView, status_code: int, created: NewKey | None = None) -> HTMLResponse:
        """The keys page: with the key just ``created`` (and a blank form), or the form as
        typed."""
        typed = None if created else form
        view = keys_view(page.session, principal, user_id=user_id, base=base, back=back, form=typed)
        owner = users_service.get_user(page.session, user_id=user_id)
        return keys_page(
            page, principal, owner=owner, view=view, created=created, status_code=status_code
        )

    def refused(page: PageView, refusal: AppError) -> Response:
        form.error = refusal.detail
        return shown(page, refusal.status)

    with refusals_on(page_on(post, refused)):
        data = parse_form(
            ApiKeyCreate,
            {
                "name": form.name,
                "expires_at": day_after(day(form.expires, name="Expiry date")),
                "project": text(form.project),
                "scopes": list(form.scopes) or None,
            },
        )
        created = keys_service.create_user_key(
            post.session, principal=principal, user_id=user_id, data=data, client=post.client
        )
    return shown(post, 201, NewKey(key=created.key, info=ApiKey.of(created.row, created.project)))


def revoke_page(
    request: Request,
    principal: Principal,
    *,
    owner: User,
    key: ApiKeyRow,
    action: str,
    back: str,
    crumbs: list[tuple[str, str]],
) -> HTMLResponse:
    whose = "your" if owner.id == principal.user_id else f"{owner.username}'s"
    return confirm_page(
        request,
        principal,
        Confirmation(
            title=f"Revoke the key “{key.name}”",
            message=(
                f"Revoke {whose} API key “{key.name}” ({display(key.prefix)})? Every client "
                "using it is refused from its next request. This cannot be undone."
            ),
            action=action,
            button="Revoke key",
            back=back,
            crumbs=tuple(crumbs),
        ),
    )


def key_of(session: Session, principal: Principal, *, owner_id: int, key_id: str) -> ApiKeyRow:
    """The user's key; 404 for a key of somebody else (or none)."""
    owner = keys_service.owner_for(session, principal=principal, user_id=owner_id)
    return keys_service.key_of(session, owner=owner, key_id=page_id(key_id, what="API key"))
