"""Invitations: an administrator's (role and memberships) and a project owner's (their
project); the invitee sets a password. One use, an expiry, only a hash at rest, audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.auth.tokens import hash_secret
from playdeck.kit.clock import utcnow
from playdeck.models import AccountLink, AuditEvent, Project, ProjectMember, User
from tests.auth.support import bearer, login

NEW_PASSWORD = "quince barometer lighthouse"


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def _accept(client: TestClient, token: str, username: str = "dana", **extra: str) -> int:
    body = {"token": token, "username": username, "password": NEW_PASSWORD, **extra}
    return int(client.post("/api/auth/invitations/accept", json=body).status_code)


def _actions(db: Session) -> list[str]:
    db.rollback()
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_an_admins_invitation_creates_the_account_with_its_role_and_memberships(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_project: Callable[[str], Project],
    db: Session,
) -> None:
    make_user("root", role="admin")
    web = make_project("Web")
    admin = login(auth_client, "root")
    auth_client.cookies.clear()
    created = auth_client.post(
        "/api/admin/invitations",
        json={
            "email": "Dana@Example.com",
            "role": "user",
            "memberships": [{"project": "web", "role": "owner"}],
        },
        headers=bearer(admin.access),
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    assert body["url"].startswith("http://testserver/invite?token=pdi_")
    assert body["emailed_to"] is None  # no SMTP: the link is the administrator's to pass on
    token = token_of(body["url"])

    db.rollback()
    stored = db.scalars(select(AccountLink)).one()
    assert stored.token_hash == hash_secret(token)
    assert token not in str(
        [stored.token_hash, stored.email, stored.memberships]
    )  # only the hash at rest

    assert _accept(auth_client, token, name="Dana") == 201
    dana = login(auth_client, "dana", NEW_PASSWORD)
    assert dana.body["user"]["email"] == "dana@example.com"
    db.rollback()
    member = db.scalars(select(ProjectMember).where(ProjectMember.project_id == web.id)).one()
    assert member.role == "owner"
    assert db.get(AccountLink, stored.id).used_at is not None  # type: ignore[union-attr]

    assert _accept(auth_client, token, "dana2") == 404  # single use
    assert [a for a in _actions(db) if not a.startswith("login.")] == [
        "user.created",  # root
        "invitation.created",
        "user.created",
        "member.added",
        "invitation.accepted",
    ]


def test_a_refused_acceptance_leaves_the_link_usable(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user("root", role="admin")
    admin = login(auth_client, "root")
    auth_client.cookies.clear()
    url = auth_client.post("/api/admin/invitations", json={}, headers=bearer(admin.access)).json()[
        "url"
    ]
    weak = auth_client.post(
        "/api/auth/invitations/accept",
        json={"token": token_of(url), "username": "dana", "password": "short"},
    )
    assert weak.status_code == 422, weak.text
    taken = _accept(auth_client, token_of(url), "root")
    assert taken == 409
    assert _accept(auth_client, token_of(url), "dana") == 201


def test_an_expired_or_unknown_invitation_is_refused_alike(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("root", role="admin")
    admin = login(auth_client, "root")
    auth_client.cookies.clear()
    url = auth_client.post(
        "/api/admin/invitations", json={"role": "reporter"}, headers=bearer(admin.access)
    ).json()["url"]
    with time_machine.travel(utcnow() + timedelta(days=7, seconds=1)):
        expired = auth_client.post(
            "/api/auth/invitations/accept",
            json={"token": token_of(url), "username": "dana", "password": NEW_PASSWORD},
        )
    unknown = auth_client.post(
        "/api/auth/invitations/accept",
        json={"token": "pdi_" + "x" * 43, "username": "dana", "password": NEW_PASSWORD},
    )
    assert expired.status_code == unknown.status_code == 404
    assert expired.json()["code"] == unknown.json()["code"] == "link_invalid"
    assert expired.json()["detail"] == unknown.json()["detail"]
    with time_machine.travel(utcnow() + timedelta(days=6, hours=23)):
        assert _accept(auth_client, token_of(url)) == 201


def test_invitation_inputs_are_validated(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("root", role="admin", email="root@example.com")
    headers = bearer(login(auth_client, "root").access)
    auth_client.cookies.clear()
    cases = [
        ({"memberships": [{"project": "nope", "role": "member"}]}, 422, "project_not_found"),
        ({"email": "not an address"}, 422, "invalid_input"),
        ({"role": "overlord"}, 422, "invalid_input"),
        ({"email": "root@example.com"}, 409, "user_exists"),
    ]
    for body, status, code in cases:
        response = auth_client.post("/api/admin/invitations", json=body, headers=headers)
        assert (response.status_code, response.json()["code"]) == (status, code), body


def test_a_project_owner_invites_into_their_project_only(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_project: Callable[[str], Project],
    db: Session,
) -> None:
    make_user("olga")
    olga = bearer(login(auth_client, "olga").access)
    auth_client.cookies.clear()
    assert auth_client.post("/api/projects", json={"name": "Web"}, headers=olga).status_code == 201
    other = make_project("Mobile").id  # Olga is no member of it

    invited = auth_client.post(
        "/api/projects/web/invitations", json={"role": "viewer"}, headers=olga
    )
    assert invited.status_code == 201, invited.text
    pending = auth_client.get("/api/projects/web/invitations", headers=olga).json()
    assert [(p["role"], p["memberships"][0]["role"]) for p in pending] == [("user", "viewer")]
    assert auth_client.get(f"/api/projects/{other}/invitations", headers=olga).status_code == 404
    assert auth_client.get("/api/admin/invitations", headers=olga).status_code == 403

    revoked = auth_client.delete(f"/api/projects/web/invitations/{pending[0]['id']}", headers=olga)
    assert revoked.status_code == 204
    assert _accept(auth_client, token_of(invited.json()["url"])) == 404
    assert "invitation.revoked" in _actions(db)
