"""The Settings tab's Service accounts section: create an account, make a key (shown once, and
it works), revoke it, delete the account; for the project's managers only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.authz.permissions import ProjectRole
from playdeck.models import ServiceAccount
from playdeck.settings import Settings

from .admin_support import MakeClient, alert, browser_for, make_project, notices
from .conftest import parse
from .identity_support import auth_overrides, create_user

SECTION = "/projects/shop/settings/service-accounts"


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(**auth_overrides())


def test_a_project_admin_manages_service_accounts_and_their_keys(
    make_client: MakeClient,
    auth_settings: Settings,
    engine: Engine,
    settings: Settings,
    db: Session,
) -> None:
    create_user(engine, settings, "olga")
    create_user(engine, settings, "pat")
    make_project(engine, "Shop", olga=ProjectRole.OWNER, pat=ProjectRole.ADMIN)
    pat = browser_for(make_client, auth_settings, "pat")

    created = pat.post(SECTION, name="github-ci", role="member", description="GitHub Actions")
    assert (created.status_code, created.headers["location"]) == (
        303,
        "/projects/shop/settings#service-accounts",
    )
    page = pat.get("/projects/shop/settings").text
    assert "Service account created" in notices(page)
    assert 'data-username="sa-shop-github-ci"' in page
    account_id = db.scalars(select(ServiceAccount.id)).one()

    made = pat.post(f"{SECTION}/{account_id}/keys", name="nightly", expires_in_days="30")
    assert made.status_code == 200, made.text[:300]
    assert made.headers["cache-control"] == "no-store"
    key = parse(made.text).all("input", id="new-key")[0].attrs["value"]
    api = make_client(auth_settings)
    me = api.get("/api/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert me.json()["user"]["username"] == "sa-shop-github-ci"
    assert key not in pat.get("/projects/shop/settings").text  # shown once

    listed = api.get(
        "/api/projects/shop/service-accounts", headers={"Authorization": f"Bearer {key}"}
    )
    assert listed.status_code == 403  # a member does not manage service accounts

    bad = pat.post(f"{SECTION}/{account_id}/keys", name="x", expires_in_days="-3")
    assert bad.status_code == 422
    alert(bad.text)

    deleted = pat.post(f"{SECTION}/{account_id}/delete")
    assert deleted.status_code == 303
    gone = api.get("/api/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert gone.status_code == 401


def test_members_and_viewers_see_no_service_accounts(
    make_client: MakeClient, auth_settings: Settings, engine: Engine, settings: Settings
) -> None:
    create_user(engine, settings, "olga")
    create_user(engine, settings, "mia")
    make_project(engine, "Shop", olga=ProjectRole.OWNER, mia=ProjectRole.MEMBER)
    mia = browser_for(make_client, auth_settings, "mia")
    assert mia.get("/projects/shop/settings").status_code == 403
    assert mia.post(SECTION, name="ci").status_code == 403
