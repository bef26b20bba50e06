"""``POST /login/two-factor``: the sign-in form's second step.

The first step (``web.identity.sign_in``) renders the code form with the challenge a right
password earned; this one calls the service behind ``POST /api/auth/login/two-factor``, so the
lockout, the rate limits and the audit log are the API's, and a wrong code shows the form again
with the same challenge (until it expires or the account locks).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response
from sqlalchemy.orm import Session

from playdeck.errors import AppError, InvalidInput
from playdeck.twofactor import signin
from playdeck.twofactor.schemas import SecondFactorLogin
from playdeck.web import form_csrf
from playdeck.web.errors import Page
from playdeck.web.forms import FormPost, parse_form, refusals_on
from playdeck.web.identity import (
    AttemptPostDep,
    Public,
    after_sign_in,
    refusal_text,
    second_factor_page,
    signed_in_redirect,
)
from playdeck.web.redirects import safe_next

router = APIRouter()


def _code_refusal_text(error: AppError) -> str:
    if error.status in (423, 429):
        return refusal_text(error)  # the lock and the limits read as they do for passwords
    return error.detail


def _form_on(post: FormPost, challenge: str, next_path: str | None) -> Page:
    """The code form again, with why the code was refused; it loads nothing."""

    def page(_session: Session, refusal: AppError) -> Response:
        error = _code_refusal_text(refusal)
        return second_factor_page(post, challenge, next_path, error=error, refusal=refusal)

    return page


@router.post("/login/two-factor", response_model=None)
def sign_in_second_factor(
    post: AttemptPostDep,
    _public: Public,
    challenge: Annotated[str, Form(max_length=128)] = "",
    code: Annotated[str, Form(max_length=64)] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Finish signing in with a code from the authenticator app or a recovery code."""
    request, session, settings, client = post.request, post.session, post.settings, post.client
    target = safe_next(next_path)
    with refusals_on(_form_on(post, challenge, target)):
        form_csrf.check(request, settings, csrf_token)
        data = parse_form(
            SecondFactorLogin,
            {"challenge": challenge, "code": code},
            text=lambda _exc: "Enter the code from your authenticator app.",
        )
        if not data.code.strip():
            raise InvalidInput("Enter the code from your authenticator app.")
        answer = signin.SecondFactor(challenge=data.challenge, code=data.code)
        issued = signin.complete(session, attempt=post.attempt, answer=answer)
    return signed_in_redirect(
        issued, after_sign_in(session, settings, issued, target), settings=settings, client=client
    )
