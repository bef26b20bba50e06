"""What every page shares: security headers, escaping, error pages, static files, the layout."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from playdeck.authz.dependencies import declared_permission
from playdeck.authz.permissions import Permission
from playdeck.models import Result, Test
from playdeck.settings import Settings
from playdeck.web.headers import PAGE_CSP
from playdeck.web.router import router as web_router

from .conftest import HTML, XSS_TITLE, get_page, parse, submit_report, upload_zip


def _page_urls(client: TestClient, db: Session) -> list[str]:
    run_id = submit_report(client)
    test_id = db.scalar(select(Test.id).where(Test.title == XSS_TITLE))
    return [
        "/",
        "/projects",
        "/projects/web",
        f"/runs/{run_id}",
        "/projects/web/tests",
        f"/tests/{test_id}",
        "/projects/web/flaky",
    ]


def test_every_page_sends_a_strict_csp_and_the_other_security_headers(
    client: TestClient, db: Session
) -> None:
    for url in [*_page_urls(client, db), "/no/such/page"]:
        response = client.get(url, headers=HTML)
        assert response.headers["content-type"].startswith("text/html"), url
        csp = response.headers["content-security-policy"]
        assert csp == PAGE_CSP
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'"
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert directives["frame-ancestors"] == "'none'"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(client: TestClient, db: Session) -> None:
    """The CSP would block them: every script is a file, and no element has a style attribute."""
    for url in _page_urls(client, db):
        _response, page = get_page(client, url)
        scripts = page.all("script")
        assert scripts and all(s.attrs.get("src", "").startswith("/static/") for s in scripts)
        assert "<style" not in _response.text
        assert not [e for e in page.elements if "style" in e.attrs], url
        assert not [e for e in page.elements if any(a.startswith("on") for a in e.attrs)], url


def test_report_supplied_titles_render_as_text_on_every_page(
    client: TestClient, db: Session
) -> None:
    for url in _page_urls(client, db):
        if url in ("/", "/projects"):
            continue
        if url.startswith("/projects/web/tests"):
            url += "?q=bold"
        response, page = get_page(client, url)
        assert "<b>" not in response.text, url
        assert "<b>bold</b>" not in response.text
        assert not page.all("b"), url
        if url.startswith(("/runs/", "/tests/", "/projects/web/tests")):
            assert XSS_TITLE in page.text, url
            assert "&lt;b&gt;bold&lt;/b&gt; &#34;quoted&#34; &amp; escaped" in response.text


def test_stack_traces_and_output_are_escaped_text(client: TestClient, db: Session) -> None:
    run_id = upload_zip(client)
    stacks = [s for s in db.scalars(select(Result.error_stack)) if s]
    assert stacks and all("\x1b[" not in s for s in stacks)  # ANSI stripped at ingest
    response, page = get_page(client, f"/runs/{run_id}")
    assert stacks[0].splitlines()[0] in page.text
    assert "\x1b" not in response.text


def test_unknown_pages_ids_and_projects_are_404_pages(client: TestClient) -> None:
    submit_report(client)
    for url, detail in [
        ("/runs/999999", "Run not found"),
        ("/runs/abc", "Run not found"),
        ("/runs/0", "Run not found"),
        ("/runs/99999999999999999999999", "Run not found"),
        ("/tests/424242", "Test not found"),
        ("/projects/nope", "Project not found"),
        ("/projects/nope/tests", "Project not found"),
        ("/projects/nope/flaky", "Project not found"),
        ("/no/such/page", "There is nothing at this address."),
    ]:
        _response, page = get_page(client, url, status=404)
        assert "404" in page.text
        assert detail in page.text, url
        assert "/" in page.links()


def test_api_and_non_browser_callers_keep_problem_json(client: TestClient) -> None:
    for url, accept in [
        ("/api/test-runs/999", HTML["accept"]),  # /api never answers HTML
        ("/runs/999", "application/json"),
        ("/runs/999", "*/*"),  # curl
        ("/no/such/page", "*/*"),
        ("/runs/999", "application/json, text/html;q=0.5"),
    ]:
        response = client.get(url, headers={"accept": accept})
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json", (url, accept)
        assert response.json()["code"] == "not_found"


def test_invalid_filter_values_are_a_422_page_for_browsers(client: TestClient) -> None:
    submit_report(client)
    _response, page = get_page(client, "/projects/web?status=bogus", status=422)
    assert "Unknown status: bogus" in page.text
    _response, page = get_page(client, "/projects/web?since=yesterday", status=422)
    assert "From must be a date" in page.text
    response = client.get("/projects/web?status=bogus", headers={"accept": "application/json"})
    assert response.headers["content-type"] == "application/problem+json"


def test_server_errors_are_a_500_page_for_browsers_and_problem_json_for_others(
    client: TestClient,
) -> None:
    def explode() -> None:
        raise RuntimeError("secret internals")

    app: FastAPI = client.app  # type: ignore[assignment]
    app.add_api_route("/explode", explode)
    response = client.get("/explode", headers=HTML)
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret internals" not in response.text
    assert response.headers["content-security-policy"] == PAGE_CSP
    assert response.headers["x-frame-options"] == "DENY"
    response = client.get("/explode")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "internal_error"


def test_static_files_are_served_with_cache_busting_urls(client: TestClient) -> None:
    _response, page = get_page(client, "/")
    stylesheet = page.all("link", rel="stylesheet")[0].attrs["href"]
    script = page.all("script")[0].attrs["src"]
    assert stylesheet.startswith("/static/playdeck.css?v=")
    css = client.get(stylesheet)
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    js = client.get(script)
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]
    assert js.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/../web/rendering.py").status_code == 404


def test_layout_has_nav_skip_link_csrf_slot_and_auth_off_notice(client: TestClient) -> None:
    _response, page = get_page(client, "/projects")
    assert page.all("a", href="#main")
    assert page.all("main", id="main")
    nav = page.all("a", href="/projects")
    assert any(a.attrs.get("aria-current") == "page" for a in nav)
    assert page.all("meta", name="csrf-token", content="")  # no session cookie: empty token
    assert "Authentication off" in page.text
    assert page.all("input", type="hidden", name="csrf_token")  # the create form carries it


def test_with_auth_on_anonymous_browsers_get_a_sign_in_page(
    make_client: Callable[[Settings], TestClient], auth_settings: Callable[..., Settings]
) -> None:
    client = make_client(auth_settings())
    for url in ["/", "/projects", "/projects/web", "/runs/1"]:
        response = client.get(url, headers=HTML)  # redirected to /login?next=<url>
        assert response.status_code == 200, url
        assert response.url.path == "/login", url
        assert "Sign in to Playdeck" in response.text
        assert "www-authenticate" not in response.headers
    assert client.get("/runs/1").headers["content-type"] == "application/problem+json"


def test_public_read_lets_anonymous_browsers_read_but_not_create(
    make_client: Callable[[Settings], TestClient], auth_settings: Callable[..., Settings]
) -> None:
    client = make_client(auth_settings(public_read=True))
    _response, page = get_page(client, "/projects")
    assert not page.all("form", method="post")  # no create form for someone who cannot create
    assert "Sign in" in page.text
    response = client.post("/projects", data={"name": "x"}, headers=HTML)
    assert response.status_code == 401


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def factory(**overrides: object) -> Settings:
        return make_settings(require_auth=True, secret_key=secrets.token_hex(32), **overrides)

    return factory


def test_pages_stay_out_of_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not [p for p in paths if p.startswith(("/projects", "/runs", "/tests"))]


def test_the_api_docs_pages_have_their_own_strict_headers(client: TestClient) -> None:
    """Swagger UI and ReDoc come from local assets, so a policy without inline script fits."""
    for path in ("/docs", "/redoc"):
        response = client.get(path)
        assert response.status_code == 200
        csp = response.headers["content-security-policy"]
        assert "script-src 'self';" in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert "cdn" not in response.text.lower()


def test_html_parser_helper_sees_escaped_text() -> None:
    page = parse("<p>&lt;b&gt;x&lt;/b&gt;</p>")
    assert page.text == "<b>x</b>"
    assert not page.all("b")


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every route, included routers flattened (FastAPI keeps those as ``original_router``)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)
        else:
            assert isinstance(route, APIRoute), route
            yield route


def test_every_page_route_declares_exactly_one_permission() -> None:
    expected = {
        ("GET", "/"): Permission.PROJECTS_LIST,
        ("GET", "/projects"): Permission.PROJECTS_LIST,
        ("POST", "/projects"): Permission.PROJECT_CREATE,
        ("GET", "/projects/{ref}"): Permission.PROJECT_READ,
        ("GET", "/runs/{run_id}"): Permission.PROJECT_READ,
        ("GET", "/projects/{ref}/tests"): Permission.PROJECT_READ,
        ("GET", "/tests/{test_id}"): Permission.PROJECT_READ,
        ("GET", "/projects/{ref}/flaky"): Permission.PROJECT_READ,
        ("GET", "/projects/{ref}/failures"): Permission.PROJECT_READ,
        ("GET", "/runs/{run_id}/compare"): Permission.PROJECT_READ,
        ("GET", "/reports/{report_id}/{path:path}"): Permission.PROJECT_READ,
        ("GET", "/attachments/{attachment_id}"): Permission.PROJECT_READ,
        ("GET", "/traces/{attachment_id}"): Permission.PROJECT_READ,
        ("POST", "/tests/{test_id}/quarantine"): Permission.TESTS_QUARANTINE,
        ("POST", "/tests/{test_id}/unquarantine"): Permission.TESTS_QUARANTINE,
        ("GET", "/login"): Permission.PUBLIC,
        ("POST", "/login"): Permission.PUBLIC,
        ("POST", "/logout"): Permission.AUTHENTICATED,
        ("GET", "/setup"): Permission.PUBLIC,
        ("POST", "/setup"): Permission.PUBLIC,
        ("GET", "/register"): Permission.PUBLIC,
        ("POST", "/register"): Permission.PUBLIC,
        ("GET", "/account"): Permission.AUTHENTICATED,
        ("POST", "/account/password"): Permission.AUTHENTICATED,
        ("POST", "/account/sign-out-everywhere"): Permission.AUTHENTICATED,
        ("GET", "/admin/audit"): Permission.AUDIT_READ,
        # Single sign-on (web/sso.py, web/admin_sso.py).
        ("GET", "/admin/sso"): Permission.USERS_ADMIN,
        ("GET", "/auth/sso/{provider}"): Permission.PUBLIC,
        ("GET", "/auth/sso/{provider}/callback"): Permission.PUBLIC,
        ("POST", "/auth/sso/{provider}/invitation"): Permission.PUBLIC,
        # Administration pages (web/admin_users.py, web/api_keys.py, web/members.py); the
        # browser's GET /admin/users is users.endpoints' route, which hands over to the page.
        ("GET", "/admin/users"): Permission.USERS_ADMIN,
        ("GET", "/settings/users"): Permission.USERS_ADMIN,
        ("POST", "/admin/users/new"): Permission.USERS_ADMIN,
        ("POST", "/admin/users/{user_id}/active"): Permission.USERS_ADMIN,
        ("GET", "/admin/users/{user_id}/role"): Permission.USERS_ADMIN,
        ("POST", "/admin/users/{user_id}/role"): Permission.USERS_ADMIN,
        ("POST", "/admin/users/{user_id}/unlock"): Permission.USERS_ADMIN,
        ("GET", "/admin/users/{user_id}/password"): Permission.USERS_ADMIN,
        ("POST", "/admin/users/{user_id}/password"): Permission.USERS_ADMIN,
        ("GET", "/admin/users/{user_id}/delete"): Permission.USERS_ADMIN,
        ("POST", "/admin/users/{user_id}/delete"): Permission.USERS_ADMIN,
        # Two-factor authentication (web/two_factor.py, web/two_factor_sign_in.py).
        ("POST", "/login/two-factor"): Permission.PUBLIC,
        ("GET", "/account/two-factor"): Permission.AUTHENTICATED,
        ("POST", "/account/two-factor/enrol"): Permission.AUTHENTICATED,
        ("POST", "/account/two-factor/confirm"): Permission.AUTHENTICATED,
        ("POST", "/account/two-factor/recovery-codes"): Permission.AUTHENTICATED,
        ("POST", "/account/two-factor/disable"): Permission.AUTHENTICATED,
        ("GET", "/admin/users/{user_id}/two-factor/reset"): Permission.USERS_ADMIN,
        ("POST", "/admin/users/{user_id}/two-factor/reset"): Permission.USERS_ADMIN,
        ("GET", "/account/api-keys"): Permission.AUTHENTICATED,
        ("POST", "/account/api-keys"): Permission.AUTHENTICATED,
        ("GET", "/account/api-keys/{key_id}/revoke"): Permission.AUTHENTICATED,
        ("POST", "/account/api-keys/{key_id}/revoke"): Permission.AUTHENTICATED,
        ("GET", "/admin/users/{user_id}/keys"): Permission.USERS_ADMIN,
        ("POST", "/admin/users/{user_id}/keys"): Permission.USERS_ADMIN,
        ("GET", "/admin/users/{user_id}/keys/{key_id}/revoke"): Permission.USERS_ADMIN,
        ("POST", "/admin/users/{user_id}/keys/{key_id}/revoke"): Permission.USERS_ADMIN,
        ("GET", "/projects/{ref}/members"): Permission.MEMBERS_READ,
        ("POST", "/projects/{ref}/members/add"): Permission.MEMBERS_MANAGE,
        ("POST", "/projects/{ref}/members/{user_id}/role"): Permission.MEMBERS_MANAGE,
        ("GET", "/projects/{ref}/members/{user_id}/remove"): Permission.MEMBERS_MANAGE,
        ("POST", "/projects/{ref}/members/{user_id}/remove"): Permission.MEMBERS_MANAGE,
        # One-time links (web/link_issuing.py, web/account_links.py).
        ("POST", "/admin/users/invite"): Permission.USERS_ADMIN,
        ("POST", "/admin/users/{user_id}/reset-link"): Permission.USERS_ADMIN,
        ("POST", "/projects/{ref}/members/invite"): Permission.OWNERS_MANAGE,
        ("GET", "/invite"): Permission.PUBLIC,
        ("POST", "/invite"): Permission.PUBLIC,
        ("GET", "/reset-password"): Permission.PUBLIC,
        ("POST", "/reset-password"): Permission.PUBLIC,
        # Service accounts on the Settings tab (web/service_account_pages.py).
        ("POST", "/projects/{ref}/settings/service-accounts"): Permission.MEMBERS_MANAGE,
        (
            "POST",
            "/projects/{ref}/settings/service-accounts/{account_id}/delete",
        ): Permission.MEMBERS_MANAGE,
        (
            "POST",
            "/projects/{ref}/settings/service-accounts/{account_id}/keys",
        ): Permission.MEMBERS_MANAGE,
        (
            "POST",
            "/projects/{ref}/settings/service-accounts/{account_id}/keys/{key_id}/revoke",
        ): Permission.MEMBERS_MANAGE,
        # Project settings and run actions (web/project_settings.py, web/run_actions.py).
        ("GET", "/projects/{ref}/settings"): Permission.PROJECT_EDIT,
        ("POST", "/projects/{ref}/settings/general"): Permission.PROJECT_EDIT,
        ("POST", "/projects/{ref}/settings/retention"): Permission.PROJECT_EDIT,
        ("GET", "/projects/{ref}/delete"): Permission.PROJECT_DELETE,
        ("POST", "/projects/{ref}/delete"): Permission.PROJECT_DELETE,
        ("POST", "/runs/{run_id}/pin"): Permission.RUNS_DELETE,
        ("POST", "/runs/{run_id}/unpin"): Permission.RUNS_DELETE,
        ("GET", "/runs/{run_id}/delete"): Permission.RUNS_DELETE,
        ("POST", "/runs/{run_id}/delete"): Permission.RUNS_DELETE,
        # Self-service (web/account_self_service.py, web/email_verification.py).
        ("POST", "/account/profile"): Permission.AUTHENTICATED,
        ("GET", "/account/sessions/{public_id}/end"): Permission.AUTHENTICATED,
        ("POST", "/account/sessions/{public_id}/end"): Permission.AUTHENTICATED,
        ("GET", "/verify-email"): Permission.PUBLIC,
        ("POST", "/verify-email"): Permission.PUBLIC,
    }
    seen = {}
    for route in _api_routes(web_router.routes):
        declared = [
            p
            for d in route.dependant.dependencies
            if (p := declared_permission(d.call)) is not None
        ]
        assert len(declared) == 1, route.path
        for method in route.methods or ():
            seen[(method, route.path)] = declared[0]
    assert seen == expected
