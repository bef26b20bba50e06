"""``/setup`` (the first administrator, while no user exists) and ``/register`` (self-service
accounts, when ``PLAYDECK_ALLOW_REGISTRATION`` is on).

Both call the services behind ``POST /api/auth/setup`` and ``/api/auth/register``: the password
policy, the rate limits, the "only while empty" serialisation and the audit log are theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from playdeck.auth import registration
from playdeck.auth.principal import Principal
from playdeck.auth.schemas import RegisterRequest, SetupRequest
from playdeck.auth.setup_token import (
    SETUP_TOKEN_FIELD,
    SETUP_TOKEN_HEADER,
    is_local,
    may_create_first_user,
)
from playdeck.errors import AppError, InvalidInput, NotFound
from playdeck.settings import Settings
from playdeck.web import form_csrf
from playdeck.web.errors import Page
from playdeck.web.forms import FormPost, parse_form, refusals_on
from playdeck.web.identity import (
    AttemptPostDep,
    Public,
    PublicView,
    PublicViewDep,
    disabled_page,
    disabled_post,
    form_page,
    public_page_on,
    refusal_text,
    setup_needed,
    signed_in_redirect,
)
from playdeck.web.rendering import set_flash

router = APIRouter()
FIELD_LABELS = {
    "username": "Username",
    "password": "Password",
    "name": "Display name",
    "full_name": "Display name",
    "email": "Email",
}
MISMATCH = "The two passwords do not match."
SETUP_FORM = "identity/setup.html"
REGISTER_FORM = "identity/register.html"


class PasswordFields(BaseModel):
    """The fields of every form that chooses a password (never shown again)."""

    password: str = ""
    password_confirm: str = ""
    csrf_token: str = ""


class AccountFields(PasswordFields):
    """What the setup and register forms post."""

    username: str = ""
    name: str = ""
    email: str = ""
    setup_token: Annotated[str, Field(alias=SETUP_TOKEN_FIELD, max_length=200)] = ""


@dataclass(slots=True)
class AccountForm:
    """What the setup and register forms send back when they are shown again (never passwords)."""

    username: str = ""
    name: str = ""
    email: str = ""
    error: str | None = None


def validation_text(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = str(first.get("loc", ("form",))[0]) if first.get("loc") else "form"
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    return f"{FIELD_LABELS.get(field, field.capitalize())}: {message}"


def _first_allowed(request: Request, fields: AccountFields) -> bool:
    """The setup token may come as the form field or, like the API's, as the header."""
    token = fields.setup_token or request.headers.get(SETUP_TOKEN_HEADER)
    return may_create_first_user(request, token)


def _completed_redirect() -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    set_flash(response, "setup-complete")
    return response


def _account_page(
    view: PublicView,
    form: AccountForm,
    *,
    template: str,
    refusal: AppError | None = None,
) -> HTMLResponse:
    """The setup or register form; the setup token is asked for the first account off-host."""
    request, settings = view.request, view.settings
    first = setup_needed(view.session)
    return form_page(
        request,
        template,
        settings=settings,
        client=view.client,
        principal=Principal.anonymous(),
        refusal=refusal,
        form=form,
        min_length=settings.password_min_length,
        first_account=first,
        ask_setup_token=first and not is_local(request),
    )


def _account_page_on(post: FormPost, form: AccountForm, template: str) -> Page:
    """The form shown again with the refusal; a setup that someone else completed signs in."""

    def show(view: PublicView, refusal: AppError) -> Response:
        if refusal.code == "setup_complete":
            return _completed_redirect()
        form.error = refusal_text(refusal)
        return _account_page(view, form, template=template, refusal=refusal)

    return public_page_on(post, show)


def check_password_form(request: Request, settings: Settings, fields: PasswordFields) -> None:
    """What every form that chooses a password checks first: its form token, the repeat."""
    form_csrf.check(request, settings, fields.csrf_token)
    if fields.password != fields.password_confirm:
        raise InvalidInput(MISMATCH)


@contextmanager
def _account_form(post: FormPost, template: str, fields: AccountFields) -> Iterator[AccountForm]:
    """Around the setup or register service: the form's checks first, and a refusal shows
    ``template`` again with the message and what was typed (never the passwords)."""
    form = AccountForm(
        username=fields.username.strip(), name=fields.name.strip(), email=fields.email.strip()
    )
    with refusals_on(_account_page_on(post, form, template)):
        check_password_form(post.request, post.settings, fields)
        yield form


@router.get("/setup", response_class=HTMLResponse, response_model=None)
def show_setup(view: PublicViewDep, _public: Public) -> Response:
    if not view.settings.require_auth:
        return disabled_page(view.request, view.viewer, what="Setting up an administrator")
    if not setup_needed(view.session):
        return _completed_redirect()
    return _account_page(view, AccountForm(), template=SETUP_FORM)


@router.post("/setup", response_class=HTMLResponse, response_model=None)
def complete_setup(
    post: AttemptPostDep,
    _public: Public,
    fields: Annotated[AccountFields, Form()],
) -> Response:
    """Create the first administrator and sign it in; once any user exists, go to sign in."""
    if not post.settings.require_auth:
        return disabled_post(post, what="Setting up an administrator")
    with _account_form(post, SETUP_FORM, fields) as form:
        data = parse_form(
            SetupRequest,
            {
                "username": form.username,
                "password": fields.password,
                "name": form.name or None,
                "email": form.email or None,
            },
            text=validation_text,
        )
        issued = registration.setup(
            post.session,
            attempt=post.attempt,
            data=data,
            first_allowed=_first_allowed(post.request, fields),
        )
    response = signed_in_redirect(issued, "/", settings=post.settings, client=post.client)
    set_flash(response, "welcome-admin")
    return response


def _registration_open(settings: Settings) -> None:
    if not settings.allow_registration:
        raise NotFound("Registration is not enabled on this server")


@router.get("/register", response_class=HTMLResponse, response_model=None)
def show_register(view: PublicViewDep, _public: Public) -> Response:
    if not view.settings.require_auth:
        return disabled_page(view.request, view.viewer, what="Creating an account")
    _registration_open(view.settings)
    if view.viewer.is_authenticated:
        return RedirectResponse("/", status_code=303)
    return _account_page(view, AccountForm(), template=REGISTER_FORM)


@router.post("/register", response_class=HTMLResponse, response_model=None)
def register(
    post: AttemptPostDep,
    _public: Public,
    fields: Annotated[AccountFields, Form()],
) -> Response:
    """Create an account (role ``user``), then sign in with it."""
    if not post.settings.require_auth:
        return disabled_post(post, what="Creating an account")
    _registration_open(post.settings)
    with _account_form(post, REGISTER_FORM, fields) as form:
        data = parse_form(
            RegisterRequest,
            {
                "email": form.email,
                "password": fields.password,
                "full_name": form.name or None,
                "username": form.username or None,
            },
            text=validation_text,
        )
        registration.register(
            post.session,
            attempt=post.attempt,
            data=data,
            first_allowed=_first_allowed(post.request, fields),
        )
    response = RedirectResponse("/login", status_code=303)
    set_flash(response, "registered")
    return response
