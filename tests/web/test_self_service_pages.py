"""The account page's self-service: ending one of your sessions (a confirmation step, then the
form), your profile form, and ``/verify-email`` where a mailed link lands."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.models import AuditEvent, User
from playdeck.settings import Settings
from tests.invitations.test_mail import Inbox, _body, smtp_server

from .conftest import HTML, get_page, parse
from .identity_support import PASSWORD, auth_overrides, create_user, form_token, sign_in

__all__ = ["smtp_server"]  # the fixture, for the tests below

MakeClient = Callable[[Settings], TestClient]
END = re.compile(r'href="(/account/sessions/([\w-]+)/end)"')


def _settings(make_settings: Callable[..., Settings], **overrides: Any) -> Settings:
    return make_settings(**auth_overrides(**overrides))


def _end_links(client: TestClient) -> list[str]:
    html = client.get("/account", headers=HTML).text
    return [m.group(1) for m in END.finditer(html)]


def _current_end_link(client: TestClient) -> str:
    """The End link of the row marked as this device (exactly one row is)."""
    _response, page = get_page(client, "/account")
    assert len(page.all("tr", class_="is-current")) == 1
    (link,) = [
        a.attrs["href"]
        for a in page.all("a")
        if a.attrs.get("href", "").endswith("/end")
        and "(this device)" in a.attrs.get("aria-label", "")
    ]
    return link


def _post(client: TestClient, url: str, data: dict[str, str]) -> httpx.Response:
    response: httpx.Response = client.post(url, data=data, headers=HTML, follow_redirects=False)
    return response


def test_ending_another_session_from_the_account_page(
    make_client: MakeClient, make_settings: Callable[..., Settings], engine: Engine, db: Session
) -> None:
    settings = _settings(make_settings)
    create_user(engine, settings, "alice")
    laptop, phone = make_client(settings), make_client(settings)
    sign_in(phone)
    token = sign_in(laptop)
    this_one = _current_end_link(laptop)
    (other,) = [link for link in _end_links(laptop) if link != this_one]

    _response, confirm = get_page(laptop, other)
    assert "End this session?" in confirm.text
    assert "you will be signed out here" not in confirm.text
    assert _post(laptop, other, {}).status_code == 403  # no CSRF token: refused
    ended = _post(laptop, other, {"csrf_token": token})
    assert ended.status_code == 303
    assert ended.headers["location"] == "/account#sessions"
    _response, page = get_page(laptop, "/account")
    assert "Session ended." in page.text
    assert len(_end_links(laptop)) == 1
    assert phone.get("/account", headers=HTML, follow_redirects=False).status_code == 303
    db.rollback()
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "session.ended")).one()
    assert event.details["current"] is False


def test_ending_this_session_signs_this_browser_out(
    make_client: MakeClient, make_settings: Callable[..., Settings], engine: Engine, db: Session
) -> None:
    settings = _settings(make_settings)
    create_user(engine, settings, "alice")
    browser = make_client(settings)
    token = sign_in(browser)
    link = _current_end_link(browser)
    _response, confirm = get_page(browser, link)
    assert "you will be signed out here" in confirm.text
    ended = _post(browser, link, {"csrf_token": token})
    assert ended.status_code == 303
    assert ended.headers["location"] == "/login"
    assert "playdeck_session" not in browser.cookies
    assert browser.get("/account", headers=HTML, follow_redirects=False).status_code == 303


def test_another_users_session_is_a_404_page(
    make_client: MakeClient, make_settings: Callable[..., Settings], engine: Engine, db: Session
) -> None:
    settings = _settings(make_settings)
    create_user(engine, settings, "alice")
    create_user(engine, settings, "bob")
    bob = make_client(settings)
    sign_in(bob, "bob")
    (bobs,) = _end_links(bob)
    alice = make_client(settings)
    token = sign_in(alice)
    _response, page = get_page(alice, bobs, status=404)
    assert "Session not found" in page.text
    assert _post(alice, bobs, {"csrf_token": token}).status_code == 404
    assert bob.get("/account", headers=HTML).status_code == 200


def test_the_profile_form_saves_the_name_and_explains_a_pending_email(
    make_client: MakeClient, make_settings: Callable[..., Settings], engine: Engine, db: Session
) -> None:
    settings = _settings(make_settings)
    create_user(engine, settings, "alice", email="alice@example.com", name="Alice")
    client = make_client(settings)
    token = sign_in(client)
    _response, page = get_page(client, "/account")
    assert page.all("form", action="/account/profile")
    assert "This server sends no mail" in page.text

    saved = _post(client, "/account/profile", {"csrf_token": token, "name": "Alice L."})
    assert saved.status_code == 303
    _response, page = get_page(client, "/account")
    assert "Profile saved." in page.text
    assert "Alice L." in page.text

    refused = _post(
        client,
        "/account/profile",
        {"csrf_token": token, "name": "Alice L.", "email": "new@example.org"},
    )
    assert refused.status_code == 403
    assert parse(refused.text).all("p", id="profile-error")
    assert "Current password is incorrect" in parse(refused.text).text

    pending = _post(
        client,
        "/account/profile",
        {
            "csrf_token": token,
            "name": "Alice L.",
            "email": "new@example.org",
            "current_password": PASSWORD,
        },
    )
    assert pending.status_code == 303
    _response, page = get_page(client, "/account")
    assert "ask an administrator to set it for you" in page.text
    assert "Waiting for verification" in page.text and "new@example.org" in page.text
    db.rollback()
    assert db.scalars(select(User.email).where(User.username == "alice")).one() == (
        "alice@example.com"
    )


def test_a_mailed_link_opens_a_confirmation_that_verifies_the_email(
    smtp_server: tuple[Inbox, int],
    make_client: MakeClient,
    make_settings: Callable[..., Settings],
    engine: Engine,
    db: Session,
) -> None:
    inbox, port = smtp_server
    settings = _settings(make_settings, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    create_user(engine, settings, "alice", email="alice@example.com")
    client = make_client(settings)
    token = sign_in(client)
    asked = _post(
        client,
        "/account/profile",
        {"csrf_token": token, "email": "alice@new.example.org", "current_password": PASSWORD},
    )
    assert asked.status_code == 303
    _response, page = get_page(client, "/account")
    assert "We sent a link to your new email." in page.text
    found = re.search(r"/verify-email\?token=(pde_[\w-]+)", _body(inbox.messages[0]))
    assert found is not None

    elsewhere = make_client(settings)  # the mail is opened in another browser
    url = f"/verify-email?token={found.group(1)}"
    _response, confirm = get_page(elsewhere, url)
    assert "alice@new.example.org" in confirm.text and "alice" in confirm.text
    db.rollback()
    assert db.scalars(select(User.email).where(User.username == "alice")).one() == (
        "alice@example.com"  # opening the link changes nothing: the button does
    )
    verified = _post(
        elsewhere,
        "/verify-email",
        {"token": found.group(1), "csrf_token": form_token(elsewhere, url)},
    )
    assert verified.status_code == 303
    assert verified.headers["location"] == "/login"
    db.rollback()
    assert db.scalars(select(User.email).where(User.username == "alice")).one() == (
        "alice@new.example.org"
    )
    _response, used = get_page(elsewhere, url, status=404)
    assert "invalid, already used or expired" in used.text
    assert not used.all("form", action="/verify-email")


def test_an_unverified_email_asks_for_a_link_only_with_the_password_typed(
    make_client: MakeClient, make_settings: Callable[..., Settings], engine: Engine, db: Session
) -> None:
    settings = _settings(make_settings)
    alice = create_user(engine, settings, "alice", email="alice@example.com")
    db.get(User, alice.id).email_verified_at = None  # type: ignore[union-attr]
    db.commit()
    client = make_client(settings)
    token = sign_in(client)
    _response, page = get_page(client, "/account")
    assert "unverified" in page.text
    fields = {"csrf_token": token, "name": "Alice", "email": "alice@example.com"}
    assert _post(client, "/account/profile", fields).status_code == 303  # the name alone
    _response, page = get_page(client, "/account")
    assert "Profile saved." in page.text and "Waiting for verification" not in page.text
    asked = _post(client, "/account/profile", {**fields, "current_password": PASSWORD})
    assert asked.status_code == 303
    _response, page = get_page(client, "/account")
    assert "Waiting for verification" in page.text
