"""``PATCH /api/auth/me`` and ``POST /api/auth/verify-email``: your display name, and your email
through a one-time link mailed by a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.kit.clock import utcnow
from playdeck.models import AuditEvent, EmailVerification, User
from playdeck.settings import Settings
from playdeck.users.service import TAKEN_MESSAGE
from tests.auth.support import PASSWORD, bearer, login
from tests.invitations.test_mail import Inbox, _body, _mailing

ME = "/api/auth/me"
VERIFY = "/api/auth/verify-email"
LINK = re.compile(r"https://playdeck\.example\.com/verify-email\?token=(pde_[\w-]+)")


@dataclass
class Mailing:
    """An auth-on app that mails through the test's SMTP server, and that server's inbox."""

    client: TestClient
    inbox: Inbox


@pytest.fixture
def mailing(
    smtp_server: tuple[Inbox, int],
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
) -> Mailing:
    client = _mailing(
        make_client, auth_settings, smtp_server[1], public_url="https://playdeck.example.com"
    )
    return Mailing(client=client, inbox=smtp_server[0])


def _token(client: TestClient, username: str = "alice") -> dict[str, str]:
    headers = bearer(login(client, username).access)
    client.cookies.clear()
    return headers


def _patch(client: TestClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    response: httpx.Response = client.patch(ME, json=body, headers=headers)
    return response


def _link_token(inbox: Inbox, index: int = -1) -> str:
    found = LINK.search(_body(inbox.messages[index]))
    assert found is not None
    return found.group(1)


def _user(db: Session, username: str) -> User:
    db.rollback()  # a fresh snapshot
    return db.scalars(select(User).where(User.username == username)).one()


def _actions(db: Session) -> list[str]:
    db.rollback()
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_display_name_changes_at_once_and_is_audited(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user("alice", name="Alice")
    headers = _token(auth_client)
    changed = _patch(auth_client, headers, name="Alice Liddell")
    assert changed.status_code == 200, changed.text
    assert changed.json()["user"]["name"] == "Alice Liddell"
    assert changed.json()["pending_email"] is None
    assert auth_client.get(ME, headers=headers).json()["user"]["display_name"] == "Alice Liddell"
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.updated")).one()
    assert event.details == {
        "changes": {"name": ["Alice", "Alice Liddell"]},
        "via": "self-service",
    }
    assert _patch(auth_client, headers, full_name="\x07").status_code == 422


def test_a_new_email_is_pending_until_the_mailed_link_is_used(
    mailing: Mailing, make_user: Callable[..., User], db: Session
) -> None:
    client, inbox = mailing.client, mailing.inbox
    make_user("alice", email="alice@example.com")
    headers = _token(client)

    asked = _patch(client, headers, email="Alice@New.Example.org", current_password=PASSWORD)
    assert asked.status_code == 200, asked.text
    assert asked.json()["verification_mailed"] is True
    assert asked.json()["pending_email"] == "alice@new.example.org"
    assert asked.json()["user"]["email"] == "alice@example.com"  # unchanged until proven
    assert client.get(ME, headers=headers).json()["pending_email"] == "alice@new.example.org"
    assert inbox.recipients == [["alice@new.example.org"]]
    assert inbox.messages[0]["Subject"] == "Confirm your email for Playdeck"
    token = _link_token(inbox)
    stored = db.scalars(select(EmailVerification)).one()
    assert token not in stored.token_hash and len(stored.token_hash) == 64  # only its hash
    # the new address signs nobody in yet
    pending = {"email": "alice@new.example.org", "password": PASSWORD}
    assert client.post("/api/auth/login", json=pending).status_code == 401

    verified = client.post(VERIFY, json={"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"email": "alice@new.example.org"}
    alice = _user(db, "alice")
    assert alice.email == "alice@new.example.org"
    assert alice.email_verified_at is not None
    me = client.get(ME, headers=headers).json()
    assert me["pending_email"] is None and me["user"]["email_verified_at"] is not None
    # the old address is told
    assert inbox.recipients[-1] == ["alice@example.com"]
    assert "alice@new.example.org" in _body(inbox.messages[-1])
    # single use
    again = client.post(VERIFY, json={"token": token})
    assert again.status_code == 404
    assert again.json()["code"] == "link_invalid"
    actions = _actions(db)
    assert actions.index("email.change_requested") < actions.index("email.verified")


def test_changing_the_email_needs_the_current_password(
    mailing: Mailing, make_user: Callable[..., User], db: Session
) -> None:
    client, inbox = mailing.client, mailing.inbox
    make_user("alice", email="alice@example.com", name="Alice")
    headers = _token(client)
    missing = _patch(client, headers, email="new@example.org", name="Mallory")
    assert missing.status_code == 403
    assert missing.json()["code"] == "invalid_current_password"
    wrong = _patch(client, headers, email="new@example.org", current_password="not it at all")
    assert wrong.status_code == 403
    assert inbox.messages == []
    alice = _user(db, "alice")
    assert (alice.display_name, alice.email) == ("Alice", "alice@example.com")  # nothing changed
    # the refusals are audited (and committed), nothing else is
    assert _actions(db).count("email.change_failed") == 2
    assert "user.updated" not in _actions(db)
    assert db.scalars(select(EmailVerification)).all() == []


def test_a_taken_email_gets_the_registrations_one_generic_answer(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user("alice", email="alice@example.com")
    make_user("bob", email="bob@example.com")
    headers = _token(auth_client)
    taken = _patch(auth_client, headers, email="BOB@example.com", current_password=PASSWORD)
    assert taken.status_code == 409
    assert taken.json()["code"] == "user_exists"
    assert taken.json()["detail"] == TAKEN_MESSAGE
    assert "bob" not in taken.text.replace("BOB@example.com", "")
    assert db.scalars(select(EmailVerification)).all() == []


def test_without_a_mail_server_the_email_stays_pending_until_an_administrator_sets_it(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user("root", role="admin")
    alice = make_user("alice", email="alice@example.com")
    headers = _token(auth_client)
    asked = _patch(auth_client, headers, email="alice@new.example.org", current_password=PASSWORD)
    assert asked.status_code == 200
    assert asked.json()["verification_mailed"] is False
    assert asked.json()["pending_email"] == "alice@new.example.org"
    assert _user(db, "alice").email == "alice@example.com"

    admin = _token(auth_client, "root")
    set_by_admin = auth_client.patch(
        f"/api/admin/users/{alice.id}", json={"email": "alice@new.example.org"}, headers=admin
    )
    assert set_by_admin.status_code == 200
    assert set_by_admin.json()["email_verified_at"] is not None
    assert auth_client.get(ME, headers=headers).json()["pending_email"] is None


def test_an_administrator_verifies_an_unverified_email_by_setting_it_again(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user("root", role="admin")
    alice = make_user("alice", email="alice@example.com")
    db.get(User, alice.id).email_verified_at = None  # type: ignore[union-attr]
    db.commit()
    admin = _token(auth_client, "root")
    response = auth_client.patch(
        f"/api/admin/users/{alice.id}", json={"email": "alice@example.com"}, headers=admin
    )
    assert response.json()["email_verified_at"] is not None
    event = [e for e in db.scalars(select(AuditEvent)) if e.action == "user.updated"][-1]
    assert event.details["changes"] == {"email_verified": [False, True]}


def test_a_registered_email_is_unverified_and_its_owner_can_prove_it(
    smtp_server: tuple[Inbox, int],
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
    db: Session,
) -> None:
    client = _mailing(
        make_client,
        auth_settings,
        smtp_server[1],
        public_url="https://playdeck.example.com",
        allow_registration="true",
    )
    make_user("root", role="admin")  # not the first account: registration makes a user
    registered = client.post(
        "/api/auth/register", json={"email": "dana@example.com", "password": PASSWORD}
    )
    assert registered.status_code == 201
    assert registered.json()["email_verified_at"] is None
    headers = _token(client, "dana@example.com")
    # the current address, unverified: a link to it (the password still asked for)
    asked = _patch(client, headers, email="dana@example.com", current_password=PASSWORD)
    assert asked.json()["verification_mailed"] is True
    assert client.post(VERIFY, json={"token": _link_token(smtp_server[0])}).status_code == 200
    assert _user(db, "dana@example.com").email_verified_at is not None


def test_only_the_newest_link_works_and_none_after_it_expires(
    mailing: Mailing, make_user: Callable[..., User], db: Session
) -> None:
    client, inbox = mailing.client, mailing.inbox
    make_user("alice", email="alice@example.com")
    headers = _token(client)
    _patch(client, headers, email="first@example.org", current_password=PASSWORD)
    first = _link_token(inbox)
    _patch(client, headers, email="second@example.org", current_password=PASSWORD)
    second = _link_token(inbox)
    assert client.post(VERIFY, json={"token": first}).status_code == 404
    with time_machine.travel(utcnow() + timedelta(hours=24, seconds=1)):
        assert client.post(VERIFY, json={"token": second}).status_code == 404
    with time_machine.travel(utcnow() + timedelta(hours=23, minutes=59)):
        assert client.post(VERIFY, json={"token": second}).status_code == 200
    assert _user(db, "alice").email == "second@example.org"


def test_a_link_whose_address_was_taken_meanwhile_is_refused_and_still_works_later(
    mailing: Mailing, make_user: Callable[..., User], db: Session
) -> None:
    client, inbox = mailing.client, mailing.inbox
    make_user("alice", email="alice@example.com")
    bob = make_user("bob", email="bob@example.com")
    headers = _token(client)
    _patch(client, headers, email="shared@example.org", current_password=PASSWORD)
    token = _link_token(inbox)
    db.get(User, bob.id).email = "shared@example.org"  # type: ignore[union-attr]
    db.commit()
    refused = client.post(VERIFY, json={"token": token})
    assert refused.status_code == 409
    assert refused.json()["detail"] == TAKEN_MESSAGE
    db.get(User, bob.id).email = "bob@example.com"  # type: ignore[union-attr]
    db.commit()
    assert client.post(VERIFY, json={"token": token}).status_code == 200


def test_an_api_key_cannot_change_the_profile(
    auth_client: TestClient, make_user: Callable[..., User], make_api_key: Callable[..., str]
) -> None:
    alice = make_user("alice")
    refused = _patch(auth_client, bearer(make_api_key(alice)), name="CI")
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_login_required"
