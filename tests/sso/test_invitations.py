"""Accepting an invitation through a real OpenID provider (oidc-provider), over real HTTP: the
invitation rides with the sign-in (in its signed cookie, never in a URL the provider sends
back), and the callback makes the account through ``invitations.service.redeem_invitation``.
Every refusal leaves the invitation usable, except its own expiry or earlier use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.auth.sessions import secret_of
from playdeck.auth.tokens import hash_secret
from playdeck.invitations import service as invitations
from playdeck.invitations.schemas import InvitationCreate
from playdeck.kit.clock import utcnow
from playdeck.models import AccountLink, AuditEvent, ProjectMember, User, UserIdentity
from playdeck.settings import Settings
from playdeck.sso import flow
from tests.fixtures.accounts import PASSWORD, create_account, insert_project
from tests.fixtures.oidc_provider import sign_in_over_http
from tests.web.identity_support import hidden_value

from .conftest import APP_URL
from .support import HTML, finish, sign_on

AppFactory = Callable[..., TestClient]


def _settings(app: TestClient) -> Settings:
    settings: Settings = cast(FastAPI, app.app).state.settings
    return settings


def _invite(app: TestClient, engine: Engine, **fields: Any) -> str:
    """An administrator's invitation (made by the service, committed); its token."""
    with Session(engine) as session:
        issued = invitations.create_invitation(
            session,
            principal=Principal.builtin_admin(),
            settings=_settings(app),
            data=InvitationCreate.model_validate(fields),
            base_url=APP_URL,
        )
        session.commit()
    return parse_qs(urlsplit(issued.url).query)["token"][0]


def _start(app: TestClient, token: str, provider: str = "test") -> httpx.Response:
    """Open the invitation page and press "Accept with ..." for ``provider``."""
    page = app.get("/invite", params={"token": token}, headers=HTML)
    assert page.status_code == 200, page.text[:300]
    response: httpx.Response = app.post(
        f"/auth/sso/{provider}/invitation",
        data={"token": token, "csrf_token": hidden_value(page.text)},
        headers=HTML,
        follow_redirects=False,
    )
    return response


def _callback(app: TestClient, token: str, login: str) -> str:
    start = _start(app, token)
    assert start.status_code == 303, start.text[:300]
    with httpx.Client(timeout=10) as person:
        return sign_in_over_http(
            person, start.headers["location"], login=login, stop_at=f"{APP_URL}/auth/sso/"
        )


def _accept(app: TestClient, token: str, login: str) -> httpx.Response:
    return finish(app, _callback(app, token, login))


def _link(db: Session, token: str) -> AccountLink:
    db.rollback()  # a fresh snapshot
    return db.scalars(select(AccountLink).where(AccountLink.token_hash == hash_secret(token))).one()


def _users(db: Session) -> list[str]:
    db.rollback()
    return list(db.scalars(select(User.username).order_by(User.id)))


def _failure_reasons(db: Session) -> list[Any]:
    db.rollback()
    rows = db.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed"))
    return [event.details.get("reason") for event in rows]


def test_an_invitee_accepts_through_the_provider_and_gets_the_invitations_role_and_projects(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    web = insert_project(engine, "web").id
    api = insert_project(engine, "api").id
    app = sso_client()
    token = _invite(
        app,
        engine,
        email="ada@example.com",
        memberships=[{"project": "api", "role": "owner"}],
    )
    page = app.get("/invite", params={"token": token}, headers=HTML)
    assert "Accept with Test ID" in page.text
    assert 'action="/auth/sso/test/invitation"' in page.text

    url = _callback(app, token, "ada")
    assert token not in url and hash_secret(token) not in url  # only state and code come back
    assert set(parse_qs(urlsplit(url).query)) >= {"state", "code"}
    response = finish(app, url)
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"] == "/"

    me = app.get("/api/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["user"]["username"] == "ada"
    db.rollback()
    ada = db.scalars(select(User).where(User.username == "ada")).one()
    assert ada.password_hash is None and ada.email == "ada@example.com"
    assert (ada.role, ada.role_source) == ("user", "manual")  # the inviter's choice
    identity = db.scalars(select(UserIdentity)).one()
    assert (identity.provider, identity.subject, identity.user_id) == ("test", "ada", ada.id)
    memberships = {
        m.project_id: (m.role, m.source)
        for m in db.scalars(select(ProjectMember).where(ProjectMember.user_id == ada.id))
    }
    # The invitation's membership is manual; the claim rules add theirs (qa-team -> web).
    assert memberships == {api: ("owner", "manual"), web: ("member", "provider")}
    link = _link(db, token)
    assert link.used_at is not None and link.user_id == ada.id
    actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-5:] == [
        "user.created",
        "member.added",  # api, from the invitation
        "invitation.accepted",
        "member.added",  # web, from the claim rules
        "login.succeeded",
    ]
    created = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.created")).one()
    assert created.details["via"] == "sso:test"

    # Used: the page says so, and pressing the button of a page still open goes nowhere.
    assert app.get("/invite", params={"token": token}, headers=HTML).status_code == 404
    again = app.post(
        "/auth/sso/test/invitation",
        data={"token": token, "csrf_token": hidden_value(page.text)},
        headers=HTML,
        follow_redirects=False,
    )
    assert again.status_code == 404
    assert "invalid, already used or expired" in again.text


def test_the_flow_cookie_binds_the_invitation_without_holding_its_token(
    sso_client: AppFactory, engine: Engine
) -> None:
    app = sso_client()
    token = _invite(app, engine)
    assert _start(app, token).status_code == 303
    raw = app.cookies.get(flow.FLOW_COOKIE)
    assert raw is not None and token not in raw
    started = flow.unseal(raw, provider="test", secret_key=secret_of(_settings(app)))
    assert started.invitation == hash_secret(token)


def test_an_invitation_that_expires_during_the_sign_in_is_refused_and_nothing_is_made(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    app = sso_client()
    token = _invite(app, engine, email="ada@example.com")
    url = _callback(app, token, "ada")
    with engine.begin() as conn:
        conn.execute(
            update(AccountLink)
            .where(AccountLink.token_hash == hash_secret(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = finish(app, url)
    assert response.status_code == 404
    assert "invalid, already used or expired" in response.text
    assert _users(db) == [] and db.scalars(select(UserIdentity)).all() == []
    assert app.get("/api/auth/me").status_code == 401


def test_an_invitation_used_by_another_sign_in_meanwhile_is_refused(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    first, second = sso_client(), sso_client()
    token = _invite(first, engine)
    late = _callback(second, token, "lead")  # started first, finished last
    assert _accept(first, token, "ada").status_code == 303
    refused = finish(second, late)
    assert refused.status_code == 404
    assert _users(db) == ["ada"]


def test_the_providers_verified_email_must_be_the_invitations(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    app = sso_client()
    token = _invite(app, engine, email="lead@example.com")
    refused = _accept(app, token, "ada")  # ada@example.com, verified
    assert refused.status_code == 403
    assert "another email address" in refused.text
    assert _users(db) == []
    assert _failure_reasons(db) == ["invitation_email_mismatch"]
    assert _link(db, token).used_at is None  # the right person may still accept it
    app.cookies.clear()
    assert _accept(app, token, "lead").status_code == 303


def test_an_unverified_email_does_not_match_the_invitations(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    app = sso_client()
    token = _invite(app, engine, email="admin@example.com")
    refused = _accept(app, token, "mallory")  # claims admin@example.com, email_verified: false
    assert refused.status_code == 403
    assert _users(db) == [] and _link(db, token).used_at is None


def test_the_domain_allowlist_applies_to_an_invitee_too(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    app = sso_client(provider={"allowed_domains": ["example.com"]})
    token = _invite(app, engine)  # no email: anyone the provider vouches for, in the domain
    refused = _accept(app, token, "outsider")  # eve@elsewhere.test
    assert refused.status_code == 403
    assert "domain" in refused.text
    assert _users(db) == [] and _link(db, token).used_at is None
    assert _failure_reasons(db) == ["domain_not_allowed"]


def test_an_invitation_without_an_email_takes_the_providers_verified_one(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    app = sso_client(provider={"provision_users": False})  # the invitation is the approval
    token = _invite(app, engine, role="admin")
    assert _accept(app, token, "lead").status_code == 303
    db.rollback()
    lead = db.scalars(select(User)).one()
    assert (lead.username, lead.email, lead.role) == ("lead", "lead@example.com", "admin")
    # Without the invitation the same provider creates nobody.
    app.cookies.clear()
    assert sign_on(app, "ada").status_code == 403
    assert _users(db) == ["lead"]


def test_someone_who_already_signed_on_cannot_spend_an_invitation(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    app = sso_client()
    assert sign_on(app, "ada").status_code == 303
    app.cookies.clear()
    token = _invite(app, engine)
    refused = _accept(app, token, "ada")
    assert refused.status_code == 409
    assert "already have a Playdeck account" in refused.text
    assert _link(db, token).used_at is None


def test_with_password_sign_in_off_an_invitation_is_accepted_only_through_the_provider(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    app = sso_client(password_sign_in=False, break_glass_admin="root")
    create_account(engine, _settings(app), "root", role="admin")
    token = _invite(app, engine, email="ada@example.com")
    page = app.get("/invite", params={"token": token}, headers=HTML)
    assert "Accept with Test ID" in page.text
    assert 'action="/invite"' not in page.text  # no password form
    refused = app.post(
        "/api/auth/invitations/accept",
        json={"token": token, "username": "ada", "password": PASSWORD},
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_sign_in_disabled"
    assert _link(db, token).used_at is None

    assert _accept(app, token, "ada").status_code == 303
    assert app.get("/api/auth/me").json()["user"]["username"] == "ada"


def test_the_invitation_page_refuses_a_form_it_did_not_serve(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    app = sso_client()
    token = _invite(app, engine)
    response = app.post(
        "/auth/sso/test/invitation",
        data={"token": token, "csrf_token": "forged"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert flow.FLOW_COOKIE not in app.cookies
    unknown = app.post(
        "/auth/sso/nope/invitation", data={"token": token}, headers=HTML, follow_redirects=False
    )
    assert unknown.status_code == 404
    assert _link(db, token).used_at is None
