"""The authorization matrix: every route of the app x every persona, with the status the
issue's table gives; denied requests change nothing, in the database or the file store.

Each route has a concrete request below (path values from the world, a valid body) so that the
allowed personas get the route's success status. A route missing from ``REQUESTS`` (added later
by another feature) is still probed: the denied personas get their exact status and nothing
changes; the allowed ones only have to pass the route gate. Give it a request here.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from playdeck.app import create_app
from playdeck.authz.permissions import PROJECT_PERMISSIONS, Permission
from playdeck.settings import Settings

from .expectations import ALLOWED, USERS, denied_status, expected_status
from .routes import AppRoute, app_routes
from .support import (
    ADMIN,
    ANONYMOUS,
    NEW_PASSWORD,
    NEWCOMER,
    PASSWORD,
    PERSONAS,
    World,
    bearer,
    login,
    snapshot,
)

DATA = Path(__file__).parents[1] / "data"
PLAYWRIGHT_JSON = DATA / "playwright" / "report.json"
PYTEST_XML = DATA / "junit" / "pytest.xml"

Values = dict[str, Any]


@dataclass(frozen=True)
class Req:
    """A request that succeeds for an allowed persona. ``path`` is formatted with the world's
    values (``alpha``, ``run``, ``u_member``...); ``scoped``: it reaches project Alpha."""

    path: str
    ok: int
    scoped: bool = True
    json: Callable[[Values], Any] | None = None
    form: dict[str, str] | None = None
    files: Callable[[], dict[str, Any]] | None = None
    content: Callable[[], bytes] | None = None
    params: dict[str, str] | None = None
    # A list of what the caller may read: every user gets it, filtered (maybe empty).
    filtered: bool = False
    # Reaches a live run's open part (``live_run``, ``part``), opened by the admin first.
    live: bool = False


def _login_body(_: Values) -> Any:
    return {"username": "owner", "password": PASSWORD}


def _new_user(v: Values) -> Any:
    return {"username": "dave", "password": NEW_PASSWORD, "role": "user", "name": "Dave"}


def _newcomer_as_member(v: Values) -> Any:
    # The JWT login API's client sends the id as a string.
    return {"user_id": str(v[f"u_{NEWCOMER}"]), "role": "member"}


def _junit() -> dict[str, Any]:
    return {"file": ("pytest.xml", PYTEST_XML.read_bytes(), "application/xml")}


SUBMIT = Req(
    "/api/test-runs/submit",
    201,
    content=PLAYWRIGHT_JSON.read_bytes,
    params={"projectName": "Alpha"},
)
MEMBERS = "/api/projects/{alpha}/members"
PAGE_MEMBERS = "/projects/{alpha_slug}/members"
ADMIN_USER = "/api/admin/users/{u_carol}"
RETENTION = "/api/projects/{alpha}/retention"
SETTINGS = "/projects/{alpha_slug}/settings"
INVITATIONS = "/api/projects/{alpha}/invitations"
ACCOUNTS = "/api/projects/{alpha}/service-accounts"
GLOBAL_ACCOUNTS = "/api/admin/service-accounts"
TWO_FACTOR = "/api/auth/two-factor"
PAGE_TWO_FACTOR = "/account/two-factor"

REQUESTS: dict[tuple[str, str], Req] = {
    # health
    ("GET", "/healthz"): Req("/healthz", 200, scoped=False),
    ("GET", "/readyz"): Req("/readyz", 200, scoped=False),
    # signing in (public: the same answer whoever asks)
    ("POST", "/api/auth/login"): Req("/api/auth/login", 200, scoped=False, json=_login_body),
    ("POST", "/auth/login"): Req("/auth/login", 200, scoped=False, json=_login_body),
    ("POST", "/api/auth/setup"): Req(
        "/api/auth/setup",
        409,
        scoped=False,
        json=lambda v: {"username": "zed", "password": NEW_PASSWORD},
    ),
    ("POST", "/api/auth/register"): Req(
        "/api/auth/register",
        403,  # registration is off
        scoped=False,
        json=lambda v: {"email": "zed@example.com", "password": NEW_PASSWORD},
    ),
    ("POST", "/auth/register"): Req(
        "/auth/register",
        403,
        scoped=False,
        json=lambda v: {"email": "zed@example.com", "password": NEW_PASSWORD},
    ),
    ("POST", "/api/auth/refresh"): Req(
        "/api/auth/refresh", 401, scoped=False, json=lambda v: {"refresh_token": "pdr_nope"}
    ),
    ("POST", "/auth/refresh"): Req(
        "/auth/refresh", 401, scoped=False, json=lambda v: {"refresh_token": "pdr_nope"}
    ),
    # single sign-on (public; this app has no providers: 404 for everyone, see test_sso.py)
    ("GET", "/auth/sso/{provider}"): Req("/auth/sso/test", 404, scoped=False),
    ("GET", "/auth/sso/{provider}/callback"): Req(
        "/auth/sso/test/callback", 404, scoped=False, params={"state": "s", "code": "c"}
    ),
    ("POST", "/auth/sso/{provider}/invitation"): Req(
        "/auth/sso/test/invitation", 404, scoped=False, form={"token": "pdi_unknown"}
    ),
    # one's own account
    ("GET", "/api/auth/me"): Req("/api/auth/me", 200, scoped=False),
    ("GET", "/auth/me"): Req("/auth/me", 200, scoped=False),
    ("POST", "/api/auth/logout"): Req("/api/auth/logout", 204, scoped=False),
    ("POST", "/api/auth/logout-all"): Req("/api/auth/logout-all", 204, scoped=False),
    ("POST", "/api/auth/password"): Req(
        "/api/auth/password",
        200,
        scoped=False,
        json=lambda v: {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    ),
    # projects
    ("GET", "/api/projects"): Req("/api/projects", 200, scoped=False),
    ("POST", "/api/projects"): Req(
        "/api/projects", 201, scoped=False, json=lambda v: {"name": "Gamma"}
    ),
    ("GET", "/api/projects/{ref}"): Req("/api/projects/{alpha}", 200),
    ("PATCH", "/api/projects/{ref}"): Req(
        "/api/projects/{alpha}", 200, json=lambda v: {"description": "changed"}
    ),
    ("DELETE", "/api/projects/{ref}"): Req("/api/projects/{alpha}", 204),
    ("GET", "/api/projects/{ref}/tests"): Req("/api/projects/{alpha_slug}/tests", 200),
    ("GET", "/api/projects/{ref}/flaky"): Req("/api/projects/{alpha}/flaky", 200),
    ("GET", "/api/projects/{ref}/trends"): Req("/api/projects/{alpha}/trends", 200),
    ("GET", "/api/projects/{ref}/failure-groups"): Req("/api/projects/{alpha}/failure-groups", 200),
    ("GET", "/api/test-runs/{run_id}/triage"): Req("/api/test-runs/{run}/triage", 200),
    ("GET", "/api/test-runs/{run_id}/compare"): Req("/api/test-runs/{run}/compare?base={run}", 200),
    # retention, disk usage, pinned runs
    ("GET", "/api/projects/{ref}/retention"): Req(RETENTION, 200),
    ("PUT", "/api/projects/{ref}/retention"): Req(
        RETENTION, 200, json=lambda v: {"keep_days": 30, "files_days": 7}
    ),
    ("GET", "/api/projects/{ref}/retention/preview"): Req(RETENTION + "/preview", 200),
    ("GET", "/api/projects/{ref}/usage"): Req("/api/projects/{alpha}/usage", 200),
    ("PUT", "/api/test-runs/{run_id}/pin"): Req("/api/test-runs/{run}/pin", 200),
    ("DELETE", "/api/test-runs/{run_id}/pin"): Req("/api/test-runs/{run}/pin", 200),
    # members
    ("GET", "/api/projects/{ref}/members"): Req(MEMBERS, 200),
    ("POST", "/api/projects/{ref}/members"): Req(MEMBERS, 201, json=_newcomer_as_member),
    ("POST", "/projects/{ref}/members"): Req(
        "/projects/{alpha}/members", 201, json=_newcomer_as_member
    ),
    ("PATCH", "/api/projects/{ref}/members/{user_id}"): Req(
        MEMBERS + "/{u_member}", 200, json=lambda v: {"role": "viewer"}
    ),
    ("DELETE", "/api/projects/{ref}/members/{user_id}"): Req(MEMBERS + "/{u_viewer}", 204),
    # runs, tests, files
    ("GET", "/api/test-runs"): Req("/api/test-runs", 200, scoped=False, filtered=True),
    ("GET", "/api/test-runs/{run_id}"): Req("/api/test-runs/{run}", 200),
    ("DELETE", "/api/test-runs/{run_id}"): Req("/api/test-runs/{run}", 204),
    ("GET", "/api/test-runs/{run_id}/tests"): Req("/api/test-runs/{run}/tests", 200),
    ("GET", "/api/tests/{test_id}"): Req("/api/tests/{test}", 200),
    ("GET", "/api/tests/{test_id}/history"): Req("/api/tests/{test}/history", 200),
    ("GET", "/api/attachments/{attachment_id}"): Req("/api/attachments/{attachment}", 200),
    ("GET", "/api/reports/{report_id}"): Req("/api/reports/{report}", 307),
    ("GET", "/api/reports/{report_id}/{path:path}"): Req("/api/reports/{report}/index.html", 200),
    ("POST", "/api/test-runs/submit"): SUBMIT,
    ("POST", "/api/test-runs/upload"): Req(
        "/api/test-runs/upload", 201, form={"projectName": "Alpha"}, files=_junit
    ),
    # user administration, and the replaced products' paths for it
    ("GET", "/api/admin/users"): Req("/api/admin/users", 200, scoped=False),
    ("POST", "/api/admin/users"): Req("/api/admin/users", 201, scoped=False, json=_new_user),
    ("GET", "/api/admin/users/{user_id}"): Req(ADMIN_USER, 200, scoped=False),
    ("PUT", "/api/admin/users/{user_id}"): Req(
        ADMIN_USER, 200, scoped=False, json=lambda v: {"name": "Carol C."}
    ),
    ("PATCH", "/api/admin/users/{user_id}"): Req(
        ADMIN_USER, 200, scoped=False, json=lambda v: {"role": "reporter"}
    ),
    ("DELETE", "/api/admin/users/{user_id}"): Req(ADMIN_USER, 204, scoped=False),
    ("POST", "/api/admin/users/{user_id}/unlock"): Req(ADMIN_USER + "/unlock", 200, scoped=False),
    ("GET", "/admin/users"): Req("/admin/users", 200, scoped=False),
    ("PUT", "/admin/users/{user_id}"): Req(
        "/admin/users/{u_carol}",
        200,
        scoped=False,
        json=lambda v: {"is_active": True, "is_superuser": False},
    ),
    ("GET", "/api/users"): Req("/api/users", 200, scoped=False),
    ("POST", "/api/users"): Req("/api/users", 201, scoped=False, json=_new_user),
    ("DELETE", "/api/users/{user_id}"): Req("/api/users/{u_carol}", 204, scoped=False),
    # invitations and reset links (an unknown token: the same 404 for everyone)
    ("POST", "/api/admin/invitations"): Req(
        "/api/admin/invitations",
        201,
        scoped=False,
        json=lambda v: {"role": "user", "memberships": [{"project": "alpha", "role": "member"}]},
    ),
    ("GET", "/api/admin/invitations"): Req("/api/admin/invitations", 200, scoped=False),
    ("DELETE", "/api/admin/invitations/{invitation_id}"): Req(
        "/api/admin/invitations/999", 404, scoped=False
    ),
    ("POST", "/api/projects/{ref}/invitations"): Req(
        INVITATIONS, 201, json=lambda v: {"role": "member"}
    ),
    ("GET", "/api/projects/{ref}/invitations"): Req(INVITATIONS, 200),
    ("DELETE", "/api/projects/{ref}/invitations/{invitation_id}"): Req(INVITATIONS + "/999", 404),
    ("POST", "/api/admin/users/{user_id}/password-reset-link"): Req(
        ADMIN_USER + "/password-reset-link", 201, scoped=False
    ),
    ("POST", "/api/auth/invitations/accept"): Req(
        "/api/auth/invitations/accept",
        404,
        scoped=False,
        json=lambda v: {"token": "pdi_unknown", "username": "zed", "password": NEW_PASSWORD},
    ),
    ("POST", "/api/auth/password-reset"): Req(
        "/api/auth/password-reset",
        404,
        scoped=False,
        json=lambda v: {"token": "pdp_unknown", "password": NEW_PASSWORD},
    ),
    # service accounts (999: no such account, once the gate has let the caller through)
    ("GET", "/api/projects/{ref}/service-accounts"): Req(ACCOUNTS, 200),
    ("POST", "/api/projects/{ref}/service-accounts"): Req(
        ACCOUNTS, 201, json=lambda v: {"name": "ci", "role": "member"}
    ),
    ("DELETE", "/api/projects/{ref}/service-accounts/{account_id}"): Req(ACCOUNTS + "/999", 404),
    ("GET", "/api/projects/{ref}/service-accounts/{account_id}/keys"): Req(
        ACCOUNTS + "/999/keys", 404
    ),
    ("POST", "/api/projects/{ref}/service-accounts/{account_id}/keys"): Req(
        ACCOUNTS + "/999/keys", 404, json=lambda v: {"name": "k"}
    ),
    ("DELETE", "/api/projects/{ref}/service-accounts/{account_id}/keys/{key_id}"): Req(
        ACCOUNTS + "/999/keys/1", 404
    ),
    ("GET", "/api/admin/service-accounts"): Req(GLOBAL_ACCOUNTS, 200, scoped=False),
    ("POST", "/api/admin/service-accounts"): Req(
        GLOBAL_ACCOUNTS, 201, scoped=False, json=lambda v: {"name": "ci"}
    ),
    ("DELETE", "/api/admin/service-accounts/{account_id}"): Req(
        GLOBAL_ACCOUNTS + "/999", 404, scoped=False
    ),
    ("GET", "/api/admin/service-accounts/{account_id}/keys"): Req(
        GLOBAL_ACCOUNTS + "/999/keys", 404, scoped=False
    ),
    ("POST", "/api/admin/service-accounts/{account_id}/keys"): Req(
        GLOBAL_ACCOUNTS + "/999/keys", 404, scoped=False, json=lambda v: {"name": "k"}
    ),
    ("DELETE", "/api/admin/service-accounts/{account_id}/keys/{key_id}"): Req(
        GLOBAL_ACCOUNTS + "/999/keys/1", 404, scoped=False
    ),
    ("GET", "/api/admin/audit"): Req("/api/admin/audit", 200, scoped=False),
    ("GET", "/admin/audit"): Req("/admin/audit", 200, scoped=False),
    ("GET", "/admin/sso"): Req("/admin/sso", 200, scoped=False),
    # pages
    ("GET", "/"): Req("/", 200, scoped=False),
    ("GET", "/projects"): Req("/projects", 200, scoped=False),
    ("POST", "/projects"): Req("/projects", 303, scoped=False, form={"name": "Gamma"}),
    ("GET", "/projects/{ref}"): Req("/projects/{alpha_slug}", 200),
    ("GET", "/projects/{ref}/tests"): Req("/projects/{alpha_slug}/tests", 200),
    ("GET", "/projects/{ref}/flaky"): Req("/projects/{alpha_slug}/flaky", 200),
    ("GET", "/projects/{ref}/failures"): Req("/projects/{alpha_slug}/failures", 200),
    ("GET", "/runs/{run_id}"): Req("/runs/{run}", 200),
    ("GET", "/runs/{run_id}/compare"): Req("/runs/{run}/compare", 200),
    ("GET", "/projects/{ref}/members"): Req(PAGE_MEMBERS, 200),
    ("POST", "/projects/{ref}/members/add"): Req(
        PAGE_MEMBERS + "/add", 303, form={"user": NEWCOMER, "role": "member"}
    ),
    ("POST", "/projects/{ref}/members/{user_id}/role"): Req(
        PAGE_MEMBERS + "/{u_member}/role", 303, form={"role": "viewer"}
    ),
    ("GET", "/projects/{ref}/members/{user_id}/remove"): Req(
        PAGE_MEMBERS + "/{u_viewer}/remove", 200
    ),
    ("POST", "/projects/{ref}/members/{user_id}/remove"): Req(
        PAGE_MEMBERS + "/{u_viewer}/remove", 303
    ),
    ("GET", "/tests/{test_id}"): Req("/tests/{test}", 200),
    # project settings, run actions
    ("GET", "/projects/{ref}/settings"): Req(SETTINGS, 200),
    ("POST", "/projects/{ref}/settings/general"): Req(
        SETTINGS + "/general", 303, form={"name": "Alpha", "description": "changed"}
    ),
    ("POST", "/projects/{ref}/settings/retention"): Req(
        SETTINGS + "/retention",
        303,
        form={"keep_days": "30", "rule_branch": "main", "rule_keep_days": "90"},
    ),
    ("GET", "/projects/{ref}/delete"): Req("/projects/{alpha_slug}/delete", 200),
    ("POST", "/projects/{ref}/delete"): Req("/projects/{alpha_slug}/delete", 303),
    ("POST", "/runs/{run_id}/pin"): Req("/runs/{run}/pin", 303),
    ("POST", "/runs/{run_id}/unpin"): Req("/runs/{run}/unpin", 303),
    ("GET", "/runs/{run_id}/delete"): Req("/runs/{run}/delete", 200),
    ("POST", "/runs/{run_id}/delete"): Req("/runs/{run}/delete", 303),
    # one-time links: issuing them from the dashboard, and where they land (unknown: 404)
    ("POST", "/admin/users/invite"): Req(
        "/admin/users/invite", 200, scoped=False, form={"role": "user", "project": "alpha"}
    ),
    ("POST", "/projects/{ref}/members/invite"): Req(
        PAGE_MEMBERS + "/invite", 200, form={"role": "member"}
    ),
    ("POST", "/admin/users/{user_id}/reset-link"): Req(
        "/admin/users/{u_carol}/reset-link", 200, scoped=False
    ),
    ("GET", "/invite"): Req("/invite", 404, scoped=False, params={"token": "pdi_unknown"}),
    ("POST", "/invite"): Req("/invite", 404, scoped=False, form={"token": "pdi_unknown"}),
    ("GET", "/reset-password"): Req(
        "/reset-password", 404, scoped=False, params={"token": "pdp_unknown"}
    ),
    ("POST", "/reset-password"): Req(
        "/reset-password", 404, scoped=False, form={"token": "pdp_unknown"}
    ),
    # service accounts on the Settings tab (999: no such account)
    ("POST", "/projects/{ref}/settings/service-accounts"): Req(
        SETTINGS + "/service-accounts", 303, form={"name": "ci", "role": "member"}
    ),
    ("POST", "/projects/{ref}/settings/service-accounts/{account_id}/delete"): Req(
        SETTINGS + "/service-accounts/999/delete", 404
    ),
    ("POST", "/projects/{ref}/settings/service-accounts/{account_id}/keys"): Req(
        SETTINGS + "/service-accounts/999/keys", 404, form={"name": "k"}
    ),
    ("POST", "/projects/{ref}/settings/service-accounts/{account_id}/keys/{key_id}/revoke"): Req(
        SETTINGS + "/service-accounts/999/keys/1/revoke", 404
    ),
    # live runs (ingest/live)
    ("POST", "/api/test-runs/live"): Req(
        "/api/test-runs/live", 201, json=lambda v: {"projectName": "Alpha", "runKey": "ci-1"}
    ),
    ("POST", "/api/test-runs/{run_id}/parts/{part_id}/results"): Req(
        "/api/test-runs/{live_run}/parts/{part}/results", 201, files=_junit, live=True
    ),
    ("POST", "/api/test-runs/{run_id}/parts/{part_id}/heartbeat"): Req(
        "/api/test-runs/{live_run}/parts/{part}/heartbeat", 204, live=True
    ),
    ("POST", "/api/test-runs/{run_id}/parts/{part_id}/close"): Req(
        "/api/test-runs/{live_run}/parts/{part}/close", 200, json=lambda v: {}, live=True
    ),
    # Uploaded HTML, framed under a banner (web/user_content.py)
    ("GET", "/reports/{report_id}/{path:path}"): Req("/reports/{report}/index.html", 200),
    ("GET", "/attachments/{attachment_id}"): Req("/attachments/{attachment}", 200),
    # quarantine: members mark tests; CI (whoever may deliver) reads the list and a run's verdict
    ("PUT", "/api/tests/{test_id}/quarantine"): Req(
        "/api/tests/{test}/quarantine", 200, json=lambda v: {"reason": "flaky on CI"}
    ),
    ("DELETE", "/api/tests/{test_id}/quarantine"): Req("/api/tests/{test}/quarantine", 204),
    ("GET", "/api/quarantine"): Req("/api/quarantine", 200, params={"projectName": "Alpha"}),
    ("GET", "/api/test-runs/{run_id}/gate"): Req("/api/test-runs/{run}/gate", 200),
    ("POST", "/tests/{test_id}/quarantine"): Req(
        "/tests/{test}/quarantine", 303, form={"reason": "flaky on CI", "expires_days": "14"}
    ),
    ("POST", "/tests/{test_id}/unquarantine"): Req("/tests/{test}/unquarantine", 303),
    # A trace in Playwright's Trace Viewer (web/traces.py)
    ("GET", "/traces/{attachment_id}"): Req("/traces/{trace}", 200),
    # Self-service (account/): your profile and sessions; another user's session id or an
    # unknown one is the same 404 (tests/authz/test_idor.py), a verification link's token too
    ("PATCH", "/api/auth/me"): Req(
        "/api/auth/me", 200, scoped=False, json=lambda v: {"name": "Renamed"}
    ),
    ("GET", "/api/auth/sessions"): Req("/api/auth/sessions", 200, scoped=False),
    ("DELETE", "/api/auth/sessions/{public_id}"): Req(
        "/api/auth/sessions/nosuchsession", 404, scoped=False
    ),
    ("POST", "/api/auth/verify-email"): Req(
        "/api/auth/verify-email", 404, scoped=False, json=lambda v: {"token": "pde_unknown"}
    ),
    ("POST", "/account/profile"): Req(
        "/account/profile", 303, scoped=False, form={"name": "Renamed"}
    ),
    ("GET", "/account/sessions/{public_id}/end"): Req(
        "/account/sessions/nosuchsession/end", 404, scoped=False
    ),
    ("POST", "/account/sessions/{public_id}/end"): Req(
        "/account/sessions/nosuchsession/end", 404, scoped=False
    ),
    ("GET", "/verify-email"): Req(
        "/verify-email", 404, scoped=False, params={"token": "pde_unknown"}
    ),
    ("POST", "/verify-email"): Req(
        "/verify-email", 404, scoped=False, form={"token": "pde_unknown"}
    ),
    # Two-factor authentication (twofactor/endpoints.py, web/two_factor*.py). The second step
    # of a sign-in is public (an unknown challenge: the same 401 for everyone); one's own
    # second factor is any signed-in password user's (nothing on yet: 409 to turn off); a
    # reset is an administrator's.
    ("POST", "/api/auth/login/two-factor"): Req(
        "/api/auth/login/two-factor",
        401,
        scoped=False,
        json=lambda v: {"challenge": "pdc_unknown", "code": "123456"},
    ),
    ("GET", "/api/auth/two-factor"): Req(TWO_FACTOR, 200, scoped=False),
    ("POST", "/api/auth/two-factor/enrol"): Req(
        TWO_FACTOR + "/enrol", 200, scoped=False, json=lambda v: {"password": PASSWORD}
    ),
    ("POST", "/api/auth/two-factor/confirm"): Req(
        TWO_FACTOR + "/confirm", 409, scoped=False, json=lambda v: {"code": "123456"}
    ),
    ("POST", "/api/auth/two-factor/recovery-codes"): Req(
        TWO_FACTOR + "/recovery-codes", 409, scoped=False, json=lambda v: {"password": PASSWORD}
    ),
    ("POST", "/api/auth/two-factor/disable"): Req(
        TWO_FACTOR + "/disable", 409, scoped=False, json=lambda v: {"password": PASSWORD}
    ),
    ("DELETE", "/api/admin/users/{user_id}/two-factor"): Req(
        ADMIN_USER + "/two-factor", 204, scoped=False
    ),
    ("POST", "/login/two-factor"): Req(
        "/login/two-factor", 403, scoped=False, form={"challenge": "pdc_unknown", "code": "1"}
    ),
    ("GET", "/account/two-factor"): Req(PAGE_TWO_FACTOR, 200, scoped=False),
    ("POST", "/account/two-factor/enrol"): Req(
        PAGE_TWO_FACTOR + "/enrol", 303, scoped=False, form={"password": PASSWORD}
    ),
    ("POST", "/account/two-factor/confirm"): Req(
        PAGE_TWO_FACTOR + "/confirm", 409, scoped=False, form={"code": "123456"}
    ),
    ("POST", "/account/two-factor/recovery-codes"): Req(
        PAGE_TWO_FACTOR + "/recovery-codes", 409, scoped=False, form={"password": PASSWORD}
    ),
    ("POST", "/account/two-factor/disable"): Req(
        PAGE_TWO_FACTOR + "/disable", 409, scoped=False, form={"password": PASSWORD}
    ),
    ("GET", "/admin/users/{user_id}/two-factor/reset"): Req(
        "/admin/users/{u_carol}/two-factor/reset", 200, scoped=False
    ),
    ("POST", "/admin/users/{user_id}/two-factor/reset"): Req(
        "/admin/users/{u_carol}/two-factor/reset", 303, scoped=False
    ),
}

# Path parameters of routes without a request above (any other parameter gets "1").
FALLBACK_VALUES = {
    "ref": "{alpha}",
    "run_id": "{run}",
    "test_id": "{test}",
    "attachment_id": "{attachment}",
    "report_id": "{report}",
    "path:path": "index.html",
    "user_id": "{u_outsider}",
}
SCOPED_PARAMS = ("ref", "run_id", "test_id", "attachment_id", "report_id")
PARAMETER = re.compile(r"\{([^}]+)\}")


def _routes() -> list[AppRoute]:
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(Settings(_env_file=None, data_dir=Path(data_dir)))
        app.state.engine.dispose()
        return app_routes(app)


ROUTES = _routes()


def _fallback(route: AppRoute) -> Req:
    path = PARAMETER.sub(lambda m: FALLBACK_VALUES.get(m.group(1), "1"), route.path)
    scoped = any(name in SCOPED_PARAMS for name in PARAMETER.findall(route.path))
    return Req(path, 200, scoped=scoped)


def _values(world: World) -> Values:
    values: Values = {f"u_{name}": user_id for name, user_id in world.users.items()}
    values.update(
        alpha=world.a.id,
        alpha_slug="alpha",
        run=world.a.run_id,
        test=world.a.test_id,
        attachment=world.a.attachment_id,
        trace=world.a.trace_id,
        report=world.a.report_id,
    )
    return values


def _open_live_part(client: TestClient) -> Values:
    opened = client.post(
        "/api/test-runs/live",
        json={"projectName": "Alpha"},
        headers=bearer(login(client, ADMIN)),
    )
    assert opened.status_code == 201, opened.text
    return {"live_run": opened.json()["testRunId"], "part": opened.json()["partId"]}


def _send(
    client: TestClient, method: str, req: Req, values: Values, token: str | None
) -> httpx.Response:
    client.cookies.clear()
    headers = bearer(token)
    kwargs: dict[str, Any] = {"follow_redirects": False}
    if req.json is not None:
        kwargs["json"] = req.json(values)
    if req.form is not None:
        kwargs["data"] = req.form
    if req.files is not None:
        kwargs["files"] = req.files()
    if req.content is not None:
        kwargs["content"] = req.content()
        headers["content-type"] = "application/json"
    if req.params is not None:
        kwargs["params"] = req.params
    response: httpx.Response = client.request(
        method, req.path.format(**values), headers=headers, **kwargs
    )
    return response


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_matrix(
    route: AppRoute,
    persona: str,
    api: TestClient,
    world: World,
    engine: Engine,
    shared_settings: Settings,
) -> None:
    (permission,) = route.permissions
    known = REQUESTS.get(route.key)
    req = known or _fallback(route)
    values = _values(world)
    if req.live:
        values.update(_open_live_part(api))
    token = None if persona == ANONYMOUS else login(api, persona)
    allowed = permission is Permission.PUBLIC or persona in ALLOWED[permission]
    allowed = allowed or (req.filtered and persona in USERS)
    before = None if allowed else snapshot(engine, shared_settings.files_dir)

    response = _send(api, route.method, req, values, token)

    if known is not None:
        expected = expected_status(
            persona, permission, ok=req.ok, scoped=req.scoped, filtered=req.filtered
        )
        assert response.status_code == expected, response.text[:300]
    elif allowed:
        assert response.status_code != 401, response.text[:300]
    else:
        denied = denied_status(persona, scoped=req.scoped)
        assert response.status_code == denied, response.text[:300]
    if before is not None:
        assert snapshot(engine, shared_settings.files_dir) == before


def test_every_route_reaching_projects_has_a_request_of_its_own() -> None:
    """The fallback proves only the denials; routes that list, create or reach projects need a
    request that proves the allowed personas succeed too (and the outsider's 404)."""
    strict = PROJECT_PERMISSIONS | {Permission.PROJECTS_LIST, Permission.PROJECT_CREATE}
    missing = [str(r) for r in ROUTES if r.key not in REQUESTS and r.permissions[0] in strict]
    assert missing == []
