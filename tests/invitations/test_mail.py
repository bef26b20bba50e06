"""Invitation and reset-link mail through a real SMTP server (aiosmtpd on a free port)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SmtpSession
from fastapi.testclient import TestClient

from playdeck.models import User
from playdeck.settings import Settings
from tests.auth.support import bearer, login

from .test_invitations import NEW_PASSWORD, token_of

MAIL_USER = "playdeck"
MAIL_PASSWORD = "mail server secret"


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
        self, server: SMTP, session: SmtpSession, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        self.messages.append(message_from_bytes(content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def _authenticate(
    server: SMTP, session: SmtpSession, envelope: Envelope, mechanism: str, data: object
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        MAIL_USER.encode(),
        MAIL_PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server(unused_port: int) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=unused_port,
        authenticator=_authenticate,
        auth_require_tls=False,  # plain SMTP on loopback, for the test only
    )
    controller.start()
    try:
        yield inbox, unused_port
    finally:
        controller.stop()


def _body(mail: Message) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def _mailing(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    port: int,
    **overrides: str,
) -> TestClient:
    """An auth-on app that mails through the test server, signing in as its user."""
    return make_client(
        auth_settings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_username=MAIL_USER,
            smtp_password=MAIL_PASSWORD,
            **overrides,
        )
    )


def test_an_invitation_is_mailed_and_its_link_works(
    smtp_server: tuple[Inbox, int],
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    inbox, port = smtp_server
    client = _mailing(
        make_client,
        auth_settings,
        port,
        smtp_from="playdeck@example.com",
        public_url="https://playdeck.example.com",
    )
    make_user("root", role="admin")
    admin = login(client, "root").access
    client.cookies.clear()
    created = client.post(
        "/api/admin/invitations", json={"email": "dana@example.com"}, headers=bearer(admin)
    )
    assert created.status_code == 201, created.text
    assert created.json()["emailed_to"] == "dana@example.com"

    (mail,) = inbox.messages
    assert inbox.recipients == [["dana@example.com"]]
    assert mail["From"] == "playdeck@example.com"
    assert mail["Subject"] == "You are invited to Playdeck"
    url = created.json()["url"]
    assert url.startswith("https://playdeck.example.com/invite?token=pdi_")
    assert url in _body(mail)

    accepted = client.post(
        "/api/auth/invitations/accept",
        json={"token": token_of(url), "username": "dana", "password": NEW_PASSWORD},
    )
    assert accepted.status_code == 201, accepted.text


def test_a_reset_link_is_mailed_to_the_account(
    smtp_server: tuple[Inbox, int],
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    inbox, port = smtp_server
    client = _mailing(make_client, auth_settings, port)
    make_user("root", role="admin")
    alice = make_user("alice", email="alice@example.com")
    admin = login(client, "root").access
    client.cookies.clear()
    issued = client.post(f"/api/admin/users/{alice.id}/password-reset-link", headers=bearer(admin))
    assert issued.json()["emailed_to"] == "alice@example.com"
    (mail,) = inbox.messages
    assert mail["Subject"] == "Reset your Playdeck password"
    assert issued.json()["url"] in _body(mail)


def test_an_unreachable_mail_server_is_logged_without_the_link(
    unused_port: int,
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(
        auth_settings(smtp_host="127.0.0.1", smtp_port=unused_port, smtp_security="none")
    )
    make_user("root", role="admin")
    admin = login(client, "root").access
    client.cookies.clear()
    with caplog.at_level(logging.WARNING, logger="playdeck.invitations.mail"):
        created = client.post(
            "/api/admin/invitations", json={"email": "dana@example.com"}, headers=bearer(admin)
        )
    assert created.status_code == 201  # the link was committed and is shown to the admin
    token = token_of(created.json()["url"])
    (record,) = [r for r in caplog.records if r.name == "playdeck.invitations.mail"]
    assert "example.com" in record.getMessage()
    assert token not in caplog.text
