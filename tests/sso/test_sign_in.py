"""Signing in through a real OpenID provider (oidc-provider), over real HTTP: provisioning,
claim rules, linking, the allowlist, and the refusals the provider itself can be made to show."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.auth.client import ClientInfo
from playdeck.models import AuditEvent, Project, ProjectMember, User, UserIdentity
from playdeck.settings import Settings
from playdeck.sso import roles
from tests.fixtures.accounts import PASSWORD, create_account

from .support import HTML, callback_url, finish, sign_on

AppFactory = Callable[..., TestClient]


def _settings(app: TestClient) -> Settings:
    settings: Settings = cast(FastAPI, app.app).state.settings
    return settings


def _project(engine: Engine, name: str = "web") -> int:
    with Session(engine) as session:
        project = Project(name=name, slug=name)
        session.add(project)
        session.commit()
        return project.id


def _user(db: Session, username: str) -> User:
    return db.scalars(select(User).where(User.username == username)).one()


def _memberships(db: Session, user_id: int) -> dict[int, tuple[str, str]]:
    rows = db.scalars(select(ProjectMember).where(ProjectMember.user_id == user_id))
    return {m.project_id: (m.role, m.source) for m in rows}


def test_first_sign_on_provisions_a_password_less_user_with_roles_from_groups(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    web = _project(engine)
    app = sso_client()
    response = sign_on(app, "lead")
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"] == "/"

    me = app.get("/api/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["credential"] == "session" and me.json()["user"]["username"] == "lead"
    user = _user(db, "lead")
    assert user.password_hash is None and user.email == "lead@example.com"
    assert user.role == "user" and user.role_source == "provider"
    assert _memberships(db, user.id) == {web: ("owner", "provider")}
    identity = db.scalars(select(UserIdentity)).one()
    assert (identity.provider, identity.subject, identity.user_id) == ("test", "lead", user.id)
    events = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert events[-2:] == ["member.added", "login.succeeded"]


def test_claim_rules_are_reapplied_at_each_sign_on_and_never_overwrite_a_manual_role(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    web, api = _project(engine, "web"), _project(engine, "api")
    rules = [
        {"claim": "groups", "value": "qa-team", "project": "web", "project_role": "member"},
        {"claim": "groups", "value": "qa-team", "project": "api", "project_role": "viewer"},
    ]
    assert sign_on(sso_client(rules=rules), "ada").status_code == 303
    ada = _user(db, "ada")
    assert _memberships(db, ada.id) == {web: ("member", "provider"), api: ("viewer", "provider")}

    # An owner raises Ada in api by hand: from now on that membership is theirs, not the rules'.
    with Session(engine) as session:
        member = session.scalars(select(ProjectMember).where(ProjectMember.project_id == api)).one()
        assert member.source == "provider"
    owner = create_account(engine, _settings(sso_client()), "owner", role="admin")
    admin_app = sso_client(rules=rules)
    token = admin_app.post(
        "/api/auth/login", json={"username": owner.username, "password": PASSWORD}
    ).json()["access_token"]
    changed = admin_app.patch(
        f"/api/projects/{api}/members/{ada.id}",
        json={"role": "admin"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200, changed.text

    # The rules change: qa-team no longer grants anything. The provider's web membership goes;
    # the manual one in api stays as the owner set it.
    assert sign_on(sso_client(rules=[]), "ada").status_code == 303
    db.rollback()  # a fresh snapshot
    assert _memberships(db, ada.id) == {api: ("admin", "manual")}
    # And a rule granting web again brings it back, from the provider.
    assert sign_on(sso_client(rules=rules), "ada").status_code == 303
    db.rollback()  # a fresh snapshot
    assert _memberships(db, ada.id) == {web: ("member", "provider"), api: ("admin", "manual")}


def test_a_group_rule_grants_the_global_admin_role_to_a_provisioned_user(
    sso_client: AppFactory, db: Session
) -> None:
    assert sign_on(sso_client(), "admin").status_code == 303
    user = _user(db, "admin")
    assert (user.role, user.role_source) == ("admin", "provider")


def test_a_wrong_state_is_refused_and_nobody_is_signed_in(
    sso_client: AppFactory, db: Session
) -> None:
    app = sso_client()
    url = callback_url(app, "ada")
    forged = url.replace("state=", "state=x")
    response = finish(app, forged)
    assert response.status_code == 400
    assert "state" in response.text
    assert app.get("/api/auth/me").status_code == 401
    assert db.scalars(select(User)).all() == []
    failure = db.scalars(select(AuditEvent)).one()
    assert (failure.action, failure.details) == (
        "login.failed",
        {"via": "sso:test", "reason": "sso_state_mismatch"},
    )


def test_a_callback_without_the_sign_in_cookie_is_refused(
    sso_client: AppFactory, db: Session
) -> None:
    app = sso_client()
    url = callback_url(app, "ada")
    app.cookies.clear()  # another browser: the login CSRF that state prevents
    response = finish(app, url)
    assert response.status_code == 400
    assert db.scalars(select(User)).all() == []


def test_a_replayed_code_is_refused_by_the_provider(sso_client: AppFactory, db: Session) -> None:
    app = sso_client()
    url = callback_url(app, "ada")
    flow_cookie = dict(app.cookies)
    assert finish(app, url).status_code == 303
    app.cookies.clear()
    app.cookies.update(flow_cookie)  # the same browser state, the same code, again
    replay = finish(app, url)
    assert replay.status_code == 400
    assert "already used" in replay.text
    assert app.get("/api/auth/me").status_code == 401


def test_an_unverified_email_never_links_to_an_existing_admin(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    app = sso_client(provider={"link_existing_accounts": True})
    admin = create_account(engine, _settings(app), "root", role="admin", email="admin@example.com")
    response = sign_on(app, "mallory")  # claims admin@example.com, email_verified: false
    assert response.status_code == 403
    assert "not verified" in response.text
    assert db.scalars(select(UserIdentity)).all() == []
    assert [u.username for u in db.scalars(select(User))] == ["root"]
    failure = db.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")).one()
    assert failure.target_id == admin.id
    assert failure.details == {"via": "sso:test", "reason": "email_unverified"}


def test_a_verified_email_links_an_existing_account_only_where_the_admin_allows_it(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    settings = _settings(sso_client())
    root = create_account(engine, settings, "root", role="admin", email="admin@example.com")
    refused = sign_on(sso_client(), "admin")
    assert refused.status_code == 409
    assert db.scalars(select(UserIdentity)).all() == []

    linked = sign_on(sso_client(provider={"link_existing_accounts": True}), "admin")
    assert linked.status_code == 303
    db.rollback()  # a fresh snapshot
    identity = db.scalars(select(UserIdentity)).one()
    assert identity.user_id == root.id
    user = _user(db, "root")
    # The local account keeps its password and its manually given role.
    assert user.password_hash is not None and user.role_source == "manual"


def test_an_email_domain_outside_the_allowlist_is_refused(
    sso_client: AppFactory, db: Session
) -> None:
    app = sso_client(provider={"allowed_domains": ["example.com"]})
    response = sign_on(app, "outsider")  # eve@elsewhere.test
    assert response.status_code == 403
    assert "domain" in response.text
    assert db.scalars(select(User)).all() == []
    assert sign_on(app, "ada").status_code == 303


def test_the_sign_in_page_offers_each_provider(sso_client: AppFactory) -> None:
    page = sso_client().get("/login?next=/projects", headers=HTML)
    assert 'href="/auth/sso/test?next=/projects"' in page.text
    assert "Sign in with Test ID" in page.text


def test_the_sign_on_returns_to_the_page_asked_for(sso_client: AppFactory) -> None:
    app = sso_client()
    response = finish(app, callback_url(app, "ada", next_path="/projects"))
    assert response.headers["location"] == "/projects"


def test_an_unknown_provider_is_a_404(sso_client: AppFactory) -> None:
    response = sso_client().get("/auth/sso/nope", follow_redirects=False)
    assert response.status_code == 404


def test_the_members_api_and_page_show_where_a_membership_came_from(
    sso_client: AppFactory, engine: Engine
) -> None:
    web = _project(engine)
    app = sso_client()
    assert sign_on(app, "lead").status_code == 303  # owner of web, from the provider
    members = app.get(f"/api/projects/{web}/members")
    assert members.status_code == 200, members.text
    assert [(m["username"], m["role"], m["source"]) for m in members.json()] == [
        ("lead", "owner", "provider")
    ]
    page = app.get("/projects/web/members", headers=HTML)
    assert "from sign-in provider" in page.text


def test_an_administrator_changing_a_provisioned_role_takes_it_over_from_the_rules(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    app = sso_client()
    assert sign_on(app, "admin").status_code == 303  # playdeck-admins -> admin, from the rules
    provisioned = _user(db, "admin")
    create_account(engine, _settings(app), "root", role="admin")
    app.cookies.clear()
    token = app.post("/api/auth/login", json={"username": "root", "password": PASSWORD}).json()[
        "access_token"
    ]
    demoted = app.patch(
        f"/api/admin/users/{provisioned.id}",
        json={"role": "user"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert demoted.status_code == 200, demoted.text
    app.cookies.clear()
    assert sign_on(app, "admin").status_code == 303
    db.rollback()  # a fresh snapshot
    again = _user(db, "admin")
    assert (again.role, again.role_source) == ("user", "manual")


def test_the_admin_page_shows_providers_and_rules_without_secrets(
    sso_client: AppFactory, engine: Engine
) -> None:
    app = sso_client(password_sign_in=False, break_glass_admin="root")
    create_account(engine, _settings(app), "root", role="admin")
    assert sign_on(app, "ada").status_code == 303  # one person signed in through "test"
    app.cookies.clear()
    assert app.post("/api/auth/login", json={"username": "root", "password": PASSWORD}).is_success
    page = app.get("/admin/sso", headers=HTML)
    assert page.status_code == 200
    assert "Sign in with Test ID" in page.text and "qa-leads" in page.text
    assert "break-glass administrator <code>root</code>" in page.text
    assert "<td>1</td>" in page.text
    assert "client-secret" not in page.text


def test_claims_only_the_id_token_carries_still_count(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    # Erin's groups are in the ID token, not in userinfo (as Entra ID sends groups and roles):
    # userinfo completes the ID token's claims, it does not replace them.
    web = _project(engine)
    assert sign_on(sso_client(), "erin").status_code == 303
    erin = _user(db, "erin")
    assert _memberships(db, erin.id) == {web: ("owner", "provider")}


def test_a_withheld_groups_claim_changes_nothing_the_rules_manage(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    # Entra ID's group overage: no "groups", a pointer to Graph instead. Unknown is not empty:
    # the membership the rules gave stays rather than going.
    web = _project(engine)
    app = sso_client()
    assert sign_on(app, "ada").status_code == 303  # qa-team: member of web
    ada = _user(db, "ada")
    overage = {"sub": "ada", "_claim_names": {"groups": "src1"}, "_claim_sources": {}}
    client = ClientInfo(ip="127.0.0.1", user_agent=None, is_https=False)
    with Session(engine) as session:
        user = session.get(User, ada.id)
        assert user is not None
        rules = _settings(app).sso.rules
        roles.apply(session, user=user, rules=rules, claims=overage, provider="test", client=client)
        assert _memberships(session, ada.id) == {web: ("member", "provider")}
        roles.apply(
            session, user=user, rules=rules, claims={"sub": "ada"}, provider="test", client=client
        )
        assert _memberships(session, ada.id) == {}  # known to be in no group: it goes


def test_a_rule_that_stops_matching_never_removes_a_project_s_last_owner(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    """The rules made Lead the owner of web; when they stop saying so, Lead stays owner while
    nobody else is one (a project keeps an owner, as everywhere else), and goes once there is."""
    web = _project(engine)
    assert sign_on(sso_client(), "lead").status_code == 303
    lead = _user(db, "lead")
    assert _memberships(db, lead.id) == {web: ("owner", "provider")}

    demoting = [
        {"claim": "groups", "value": "qa-leads", "project": "web", "project_role": "viewer"}
    ]
    for rules in ([], demoting):
        assert sign_on(sso_client(rules=rules), "lead").status_code == 303
        db.rollback()
        assert _memberships(db, lead.id) == {web: ("owner", "provider")}

    other = create_account(engine, _settings(sso_client()), "olga")
    with Session(engine) as session:
        session.add(ProjectMember(project_id=web, user_id=other.id, role="owner"))
        session.commit()
    assert sign_on(sso_client(rules=[]), "lead").status_code == 303
    db.rollback()
    assert _memberships(db, lead.id) == {}
