"""``/login``, ``/logout``, ``/setup``, ``/register``, the sign-in redirect and login CSRF."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from playdeck.models import AuditEvent, User, UserSession
from playdeck.settings import Settings
from playdeck.web.form_csrf import FORM_COOKIE
from playdeck.web.redirects import safe_next

from .conftest import HTML, get_page, parse
from .identity_support import (
    PASSWORD,
    auth_overrides,
    create_user,
    form_token,
    hidden_value,
    post_login,
    sign_in,
)

MakeClient = Callable[[Settings], TestClient]


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    return lambda **overrides: make_settings(**auth_overrides(**overrides))


@pytest.fixture
def auth_client(make_client: MakeClient, auth_settings: Callable[..., Settings]) -> TestClient:
    return make_client(auth_settings())


@pytest.fixture
def alice(engine: Engine, settings: Settings) -> User:
    return create_user(engine, settings, "alice", email="alice@example.com")


def _cookie_attributes(set_cookie: str) -> dict[str, str | bool]:
    morsel = next(iter(SimpleCookie(set_cookie).values()))
    return {k: v for k, v in morsel.items() if v}


def _session_cookie_header(response_headers: list[tuple[str, str]]) -> str:
    found = [v for k, v in response_headers if k == "set-cookie" and "playdeck_session=" in v]
    assert len(found) == 1, found
    return found[0]


def _events(db: Session, action: str) -> int:
    return db.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


# --- sign in ---------------------------------------------------------------------------------


def test_login_page_carries_a_form_token_bound_to_a_cookie(auth_client: TestClient) -> None:
    response, page = get_page(auth_client, "/login")
    form = page.all("form", action="/login")[0]
    assert form.attrs["method"] == "post"
    assert hidden_value(response.text)
    assert page.all("input", name="login", autocomplete="username")
    assert page.all("input", name="password", type="password")
    cookie = _cookie_attributes(response.headers["set-cookie"])
    assert cookie["httponly"] and cookie["samesite"] == "lax" and cookie["path"] == "/"
    assert FORM_COOKIE in auth_client.cookies
    assert response.headers["cache-control"] == "no-store"


def test_signing_in_sets_the_api_logins_cookie_and_returns_to_next(
    auth_client: TestClient, alice: User, db: Session
) -> None:
    response = post_login(auth_client, next_path="/projects?q=shop")
    assert response.status_code == 303
    assert response.headers["location"] == "/projects?q=shop"
    page_cookie = _cookie_attributes(_session_cookie_header(response.headers.multi_items()))

    api = auth_client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    api_cookie = _cookie_attributes(_session_cookie_header(api.headers.multi_items()))
    assert page_cookie.keys() == api_cookie.keys()
    for name in ("httponly", "samesite", "path", "max-age", "secure"):
        assert page_cookie.get(name) == api_cookie.get(name), name
    assert _events(db, "login.succeeded") == 2
    assert db.scalar(select(func.count()).select_from(UserSession)) == 2
    _response, page = get_page(auth_client, "/projects")
    assert "alice" in page.text


def test_signing_in_by_email_works(auth_client: TestClient, alice: User) -> None:
    response = post_login(auth_client, "Alice@Example.com")
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_a_reporter_lands_on_its_account_not_on_results_it_may_not_read(
    auth_client: TestClient, engine: Engine, settings: Settings
) -> None:
    create_user(engine, settings, "ci-bot", role="reporter")
    response = post_login(auth_client, "ci-bot")
    assert response.headers["location"] == "/account"
    assert auth_client.get("/account", headers=HTML).status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/path",
        "https://evil.example/",
        "http:/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/login?next=/",
        "/caf\u00e9",
        "",
    ],
)
def test_sign_in_never_sends_the_browser_off_site(
    auth_client: TestClient, alice: User, target: str
) -> None:
    response = post_login(auth_client, next_path=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_safe_next_keeps_paths_and_queries_of_this_site() -> None:
    assert safe_next("/runs/12?outcome=failed#t") == "/runs/12?outcome=failed#t"
    assert safe_next("/projects/a%2Fb") == "/projects/a%2Fb"
    assert safe_next("/" + "a" * 3000) is None


def test_wrong_password_keeps_the_name_and_says_so(
    auth_client: TestClient, alice: User, db: Session
) -> None:
    response = post_login(auth_client, "alice", "not the password at all", next_path="/projects")
    assert response.status_code == 401
    page = parse(response.text)
    assert "Invalid username or password." in page.text
    assert page.all("input", name="login", value="alice")
    assert page.all("input", type="hidden", name="next", value="/projects")
    assert "not the password at all" not in response.text
    assert "playdeck_session" not in response.headers.get("set-cookie", "")
    assert _events(db, "login.failed") == 1


def test_a_deactivated_user_with_the_right_password_is_told_so(
    auth_client: TestClient, alice: User, db: Session
) -> None:
    db.execute(update(User).where(User.id == alice.id).values(is_active=False))
    db.commit()
    response = post_login(auth_client, "alice", PASSWORD)
    assert response.status_code == 403
    assert "This account has been deactivated" in parse(response.text).text
    assert "playdeck_session" not in response.headers.get("set-cookie", "")
    wrong = post_login(auth_client, "alice", "not the password at all")
    assert wrong.status_code == 401
    assert "Invalid username or password." in parse(wrong.text).text


def test_unknown_name_gets_the_same_message(auth_client: TestClient, alice: User) -> None:
    response = post_login(auth_client, "nobody", "not the password at all")
    assert response.status_code == 401
    assert "Invalid username or password." in parse(response.text).text


def test_empty_fields_ask_for_both(auth_client: TestClient, alice: User, db: Session) -> None:
    response = post_login(auth_client, "alice", "")
    assert response.status_code == 422
    assert "Enter your username or email and your password." in parse(response.text).text
    assert _events(db, "login.failed") == 0


def test_lockout_shows_the_time_left(
    make_client: MakeClient, auth_settings: Callable[..., Settings], alice: User
) -> None:
    client = make_client(auth_settings(lockout_minutes=15))
    token = form_token(client)
    for _ in range(5):
        assert post_login(client, "alice", "wrong guess", token=token).status_code == 401
    response = post_login(client, "alice", PASSWORD, token=token)
    assert response.status_code == 423
    assert 14 * 60 <= int(response.headers["retry-after"]) <= 15 * 60
    text = parse(response.text).text
    assert "temporarily locked" in text
    assert "Try again in 15 minutes." in text
    assert "playdeck_session" not in response.headers.get("set-cookie", "")


def test_rate_limit_is_a_clear_message(
    make_client: MakeClient, auth_settings: Callable[..., Settings], alice: User, db: Session
) -> None:
    client = make_client(auth_settings(login_rate_limit="2/minute"))
    token = form_token(client)
    for _ in range(2):
        assert post_login(client, "alice", "wrong guess", token=token).status_code == 401
    response = post_login(client, "alice", PASSWORD, token=token)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "Too many attempts. Wait" in parse(response.text).text
    assert _events(db, "login.failed") == 2  # the refused attempt was not even tried


def test_already_signed_in_visitors_skip_the_form(auth_client: TestClient, alice: User) -> None:
    sign_in(auth_client)
    response = auth_client.get("/login?next=/projects", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/projects"


def test_login_page_offers_setup_while_no_user_exists(auth_client: TestClient) -> None:
    _response, page = get_page(auth_client, "/login")
    assert "/setup" in page.links()
    assert "/register" not in page.links()


# --- login CSRF ------------------------------------------------------------------------------


def test_sign_in_without_the_form_token_is_refused(
    auth_client: TestClient, alice: User, db: Session
) -> None:
    form_token(auth_client)  # the cookie alone is not enough
    response = auth_client.post(
        "/login", data={"login": "alice", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "did not come from this site" in parse(response.text).text
    assert "playdeck_session" not in response.headers.get("set-cookie", "")
    assert _events(db, "login.succeeded") == 0
    assert _events(db, "login.failed") == 0  # refused before the password was looked at


def test_sign_in_with_a_token_but_without_its_cookie_is_refused(
    auth_client: TestClient, alice: User
) -> None:
    token = form_token(auth_client)
    auth_client.cookies.delete(FORM_COOKIE)
    response = post_login(auth_client, token=token)
    assert response.status_code == 403


def test_a_token_from_another_browser_is_refused(
    make_client: MakeClient, auth_settings: Callable[..., Settings], alice: User
) -> None:
    settings = auth_settings()
    attacker, victim = make_client(settings), make_client(settings)
    attackers_token = form_token(attacker)
    form_token(victim)  # the victim has a form cookie of their own
    response = post_login(victim, token=attackers_token)
    assert response.status_code == 403


def test_sign_in_posted_from_another_site_is_refused(auth_client: TestClient, alice: User) -> None:
    token = form_token(auth_client)
    data = {"login": "alice", "password": PASSWORD, "csrf_token": token}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = auth_client.post("/login", data=data, headers=headers, follow_redirects=False)
        assert response.status_code == 403, headers
    same_origin = auth_client.post(
        "/login", data=data, headers={"Origin": "http://testserver"}, follow_redirects=False
    )
    assert same_origin.status_code == 303


# --- the sign-in redirect --------------------------------------------------------------------


def test_anonymous_browsers_are_sent_to_sign_in_and_back(
    auth_client: TestClient, alice: User
) -> None:
    for url in ["/", "/projects", "/projects/web?branch=main&status=failed", "/runs/1", "/account"]:
        response = auth_client.get(url, headers=HTML, follow_redirects=False)
        assert response.status_code == 303, url
        location = urlsplit(response.headers["location"])
        assert location.path == "/login"
        expected = {} if url == "/" else {"next": [url]}
        assert parse_qs(location.query) == expected, url
    response = post_login(auth_client, next_path="/projects?q=x")
    assert response.headers["location"] == "/projects?q=x"


def test_api_clients_and_public_pages_are_not_redirected(auth_client: TestClient) -> None:
    assert auth_client.get("/projects").status_code == 401  # not a browser: problem+json
    assert auth_client.get("/api/projects", headers=HTML).status_code == 401
    for url in ["/login", "/setup", "/healthz", "/static/playdeck.css"]:
        assert auth_client.get(url, headers=HTML).status_code == 200, url
    response = auth_client.post("/projects", data={"name": "x"}, headers=HTML)
    assert response.status_code == 401  # a form posted without a session is refused, not moved


def test_public_read_shows_read_pages_and_still_guards_the_account(
    make_client: MakeClient, auth_settings: Callable[..., Settings]
) -> None:
    client = make_client(auth_settings(public_read=True))
    response, page = get_page(client, "/projects?q=x")
    signin = [link for link in page.links() if link.startswith("/login")]
    assert signin == ["/login?next=/projects%3Fq%3Dx"]
    response = client.get("/account", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount"


# --- sign out --------------------------------------------------------------------------------


def test_sign_out_ends_the_session(auth_client: TestClient, alice: User, db: Session) -> None:
    token = sign_in(auth_client)
    response = auth_client.post(
        "/logout", data={"csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "playdeck_session" not in auth_client.cookies
    assert db.scalar(select(func.count()).select_from(UserSession)) == 0
    _response, page = get_page(auth_client, "/login")
    assert "You are signed out." in page.text
    assert _events(db, "logout") == 1


def test_sign_out_without_the_session_token_is_refused(
    auth_client: TestClient, alice: User, db: Session
) -> None:
    sign_in(auth_client)
    response = auth_client.post("/logout", headers=HTML, follow_redirects=False)
    assert response.status_code == 403
    assert db.scalar(select(func.count()).select_from(UserSession)) == 1
    assert auth_client.get("/account", headers=HTML).status_code == 200


def test_session_forms_posted_from_another_site_are_refused_even_with_the_token(
    auth_client: TestClient, alice: User, db: Session
) -> None:
    """Page forms go through the API's cookie check: Origin first, then the token."""
    token = sign_in(auth_client)
    response = auth_client.post(
        "/logout",
        data={"csrf_token": token},
        headers={**HTML, "Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert db.scalar(select(func.count()).select_from(UserSession)) == 1


def test_the_header_has_a_sign_out_form_with_the_session_token(
    auth_client: TestClient, alice: User
) -> None:
    token = sign_in(auth_client)
    _response, page = get_page(auth_client, "/projects")
    assert page.all("form", action="/logout", method="post")
    assert page.all("input", type="hidden", name="csrf_token", value=token)
    assert "/account" in page.links()
    assert "/admin/audit" not in page.links()  # not an administrator


# --- setup -----------------------------------------------------------------------------------


def _setup(client: TestClient, **fields: str) -> httpx.Response:
    data = {
        "username": "root",
        "name": "",
        "email": "",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "csrf_token": form_token(client, "/setup"),
        **fields,
    }
    response: httpx.Response = client.post(
        "/setup", data=data, headers=HTML, follow_redirects=False
    )
    return response


def test_setup_creates_the_first_admin_and_signs_it_in(
    auth_client: TestClient, db: Session
) -> None:
    response = _setup(auth_client, name="Root User", email="root@example.com")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    user = db.scalars(select(User)).one()
    assert (user.username, user.role, user.display_name) == ("root", "admin", "Root User")
    _response, page = get_page(auth_client, "/")
    assert "Welcome! Your administrator account is ready." in page.text
    assert "/admin/audit" in page.links()


def test_setup_is_closed_once_a_user_exists(
    auth_client: TestClient, alice: User, db: Session
) -> None:
    response = auth_client.get("/setup", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    token = form_token(auth_client)  # the login page's token works for any pre-session form
    response = auth_client.post(
        "/setup",
        data={
            "username": "mallory",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "csrf_token": token,
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert db.scalars(select(User.username)).all() == ["alice"]
    assert "playdeck_session" not in response.headers.get("set-cookie", "")


def test_setup_explains_what_is_wrong(auth_client: TestClient, db: Session) -> None:
    mismatch = _setup(auth_client, password_confirm="something else entirely")
    assert mismatch.status_code == 422
    assert "The two passwords do not match." in parse(mismatch.text).text
    weak = _setup(auth_client, password="short", password_confirm="short")
    assert weak.status_code == 422
    assert "at least 15 characters" in parse(weak.text).text
    bad_name = _setup(auth_client, username="no spaces allowed")
    assert bad_name.status_code == 422
    assert "username must be" in parse(bad_name.text).text
    assert parse(bad_name.text).all("input", name="username", value="no spaces allowed")
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_setup_without_the_form_token_is_refused(auth_client: TestClient, db: Session) -> None:
    response = auth_client.post(
        "/setup",
        data={"username": "root", "password": PASSWORD, "password_confirm": PASSWORD},
        headers=HTML,
    )
    assert response.status_code == 403
    assert db.scalar(select(func.count()).select_from(User)) == 0


# --- register --------------------------------------------------------------------------------


def _register(client: TestClient, **fields: str) -> httpx.Response:
    data = {
        "email": "bob@example.com",
        "username": "",
        "name": "Bob",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "csrf_token": form_token(client, "/register"),
        **fields,
    }
    response: httpx.Response = client.post(
        "/register", data=data, headers=HTML, follow_redirects=False
    )
    return response


def test_register_is_a_404_unless_enabled(auth_client: TestClient) -> None:
    _response, page = get_page(auth_client, "/register", status=404)
    assert "Registration is not enabled" in page.text
    response = auth_client.post("/register", data={"email": "x@example.com"}, headers=HTML)
    assert response.status_code == 404


def test_register_creates_a_user_and_sends_them_to_sign_in(
    make_client: MakeClient, auth_settings: Callable[..., Settings], alice: User, db: Session
) -> None:
    client = make_client(auth_settings(allow_registration=True))
    _response, page = get_page(client, "/login")
    assert "/register" in page.links()
    response = _register(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    bob = db.scalars(select(User).where(User.email == "bob@example.com")).one()
    assert (bob.username, bob.role, bob.display_name) == ("bob@example.com", "user", "Bob")
    _response, page = get_page(client, "/login")
    assert "Your account is ready. Sign in to continue." in page.text
    assert post_login(client, "bob@example.com").status_code == 303


def test_register_refuses_a_taken_name_without_saying_which(
    make_client: MakeClient, auth_settings: Callable[..., Settings], alice: User
) -> None:
    client = make_client(auth_settings(allow_registration=True))
    response = _register(client, email="alice@example.com")
    assert response.status_code == 409
    assert "That username or email cannot be used" in parse(response.text).text


# --- authentication off ----------------------------------------------------------------------


def test_with_auth_off_the_identity_pages_say_so_instead_of_showing_forms(
    client: TestClient,
) -> None:
    for url in ["/login", "/setup", "/register"]:
        _response, page = get_page(client, url)
        assert "Authentication is turned off" in page.text, url
        assert not page.all("input", type="password"), url
    response = client.post("/login", data={"login": "a", "password": "b"}, headers=HTML)
    assert response.status_code == 400
    assert "Authentication is turned off" in parse(response.text).text
    assert "playdeck_session" not in response.headers.get("set-cookie", "")


def test_error_pages_keep_the_signed_in_user_menu(auth_client: TestClient, alice: User) -> None:
    sign_in(auth_client)
    for url, status in (("/runs/424242", 404), ("/no/such/page", 404), ("/admin/users", 403)):
        response = auth_client.get(url, headers=HTML)
        assert response.status_code == status, url
        page = parse(response.text)
        assert page.all("details", **{"class": "user-menu__panel"}), url
        assert "alice" in page.text, url
