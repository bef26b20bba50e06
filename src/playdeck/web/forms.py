"""What the administration pages' forms share: where an action returns to, the text of a
validation error, the redirect after a successful post, and the confirmation step.

Every action is a POST carrying the session's CSRF token (checked by ``auth.credentials`` before
the handler runs). A handler parses, calls the service and responds: success redirects (303)
with a flash notice; a refusal from a service, raised inside ``refusals_on(page)``, is shown on
the page with the service's own message and status by the error layer, once the request's
transaction has settled (``web.errors.FormRefused``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from playdeck.auth.client import ClientInfo
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import Principal
from playdeck.deps import BaseUrlDep, SessionDep, SettingsDep
from playdeck.errors import AppError, InvalidInput
from playdeck.web.errors import FormRefused, Page
from playdeck.web.redirects import safe_next
from playdeck.web.rendering import render, set_flash
from playdeck.web.views import PageView

M = TypeVar("M", bound=BaseModel)
# Pages with a form token, personal data or a key on them are never stored by a cache.
NO_STORE = {"Cache-Control": "no-store"}
MAX_BACK = 2000


@dataclass(frozen=True, slots=True)
class FormPost(PageView):
    """What a form's handler works with besides its fields and who posts it (the route's access
    dependency): a page's request, session (committed once, by the session dependency),
    settings and the base of its links, and the client the audit log records."""

    client: ClientInfo


def form_post(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    links: BaseUrlDep,
) -> FormPost:
    return FormPost(request=request, session=session, settings=settings, links=links, client=client)


PostDep = Annotated[FormPost, Depends(form_post)]


def back_to(value: str | None, *, allowed: frozenset[str], default: str) -> str:
    """``value`` when it is a same-site path whose path part is one of ``allowed`` (the query,
    such as the list's filters, is kept); else ``default``. Never another site."""
    target = safe_next(value)
    if target is None or urlsplit(target).path not in allowed:
        return default
    return target


def form_error(exc: ValidationError) -> str:
    """``Name: must not be blank``: the first problem, as a person reads it."""
    first = exc.errors()[0]
    field = next((p for p in first.get("loc", ()) if isinstance(p, str)), "form")
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    return f"{field.replace('_', ' ').capitalize()}: {message}"


def parse_form(
    model: type[M], data: dict[str, Any], *, text: Callable[[ValidationError], str] = form_error
) -> M:
    """``model`` from a form's fields; invalid input is a 422 ``InvalidInput`` in words a person
    reads (``text``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(text(exc)) from exc


@contextmanager
def refusals_on(page: Page, *, unless: tuple[type[AppError], ...] = ()) -> Iterator[None]:
    """Show any refusal raised inside the block on ``page`` (see ``FormRefused``), except those
    of the types ``unless`` names, which get the error page."""
    try:
        yield
    except FormRefused:
        raise
    except AppError as exc:
        if isinstance(exc, unless):
            raise
        raise FormRefused(exc, page) from exc


def done(target: str, flash: str) -> RedirectResponse:
    """Redirect after a successful post, with the notice ``flash`` for the next page."""
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    set_flash(response, flash)
    return response


def form_page(
    request: Request,
    principal: Principal,
    template: str,
    *,
    refusal: AppError | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page with a form on it (never stored by a cache): as first shown, or showing why its
    last post was refused (the refusal's message as the page's ``error``, with its status)."""
    return render(
        request,
        template,
        principal=principal,
        status_code=refusal.status if refusal else 200,
        headers=dict(NO_STORE),
        error=refusal.detail if refusal else None,
        **context,
    )


def form_page_on(request: Request, principal: Principal, template: str, **context: Any) -> Page:
    """``form_page`` as the page a refusal is shown on, for a page that loads nothing from the
    database (its ``context`` is read now, before the request's session ends)."""

    def page(session: Session, refusal: AppError) -> Response:
        return form_page(request, principal, template, refusal=refusal, **context)

    return page


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The confirmation step of a destructive action: a page whose one form posts to
    ``action`` (with ``fields`` as hidden inputs); ``Cancel`` goes ``back``. Works without
    JavaScript."""

    title: str
    message: str
    action: str
    button: str
    back: str
    crumbs: tuple[tuple[str, str], ...] = ()
    warning: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


def confirm_page(
    request: Request,
    principal: Principal,
    confirmation: Confirmation,
    *,
    refusal: AppError | None = None,
) -> HTMLResponse:
    """The ``confirmation`` page, or (``refusal``) the same page saying why its action was
    refused."""
    return form_page(request, principal, "confirm.html", refusal=refusal, **asdict(confirmation))


def confirmation_on(
    request: Request, principal: Principal, confirmation: Callable[[Session], Confirmation]
) -> Page:
    """The confirmation page as the page a refusal of its action is shown on; ``confirmation``
    loads what it names from the session the error layer gives it."""

    def page(session: Session, refusal: AppError) -> Response:
        return confirm_page(request, principal, confirmation(session), refusal=refusal)

    return page


def page_on(view: PageView, show: Callable[[PageView, AppError], Response]) -> Page:
    """The page ``show`` renders for ``view``, as the page a refusal is shown on: the error layer
    gives it its read-only session (``PageView.reading``) and the refusal."""

    def page(session: Session, refusal: AppError) -> Response:
        return show(view.reading(session), refusal)

    return page
