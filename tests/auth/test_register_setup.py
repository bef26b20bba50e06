"""The ways to a first administrator through the API, and self-registration."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playdeck.models import AuditEvent, User
from playdeck.settings import Settings

from .support import PASSWORD, login


def _register(client: TestClient, email: str, **extra: str) -> tuple[int, dict[str, object]]:
    response = client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, **extra}
    )
    return response.status_code, response.json()


def test_registration_is_403_unless_enabled(auth_client: TestClient) -> None:
    status, body = _register(auth_client, "a@example.com")
    assert status == 403
    assert body["code"] == "registration_disabled"


def test_registered_users_get_role_user(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    client = make_client(auth_settings(allow_registration=True))
    make_user("root", role="admin")
    status, body = _register(client, "New.Person@Example.com", full_name="New Person")
    assert status == 201
    assert body["role"] == "user"
    assert body["is_superuser"] is False
    assert body["email"] == "new.person@example.com"
    assert body["username"] == "new.person@example.com"
    assert "password" not in str(body)
    login(client, "new.person@example.com")


def test_first_registration_on_an_empty_instance_is_the_admin(
    make_client: Callable[[Settings], TestClient], auth_settings: Callable[..., Settings]
) -> None:
    client = make_client(auth_settings(allow_registration=True))
    assert _register(client, "first@example.com")[1]["role"] == "admin"
    assert _register(client, "second@example.com")[1]["role"] == "user"


def test_taken_email_or_username_gives_one_generic_409(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    client = make_client(auth_settings(allow_registration=True))
    make_user("taken", email="taken@example.com")
    by_email = _register(client, "TAKEN@example.com")
    by_name = _register(client, "fresh@example.com", username="Taken")
    assert by_email[0] == by_name[0] == 409
    assert by_email[1] == by_name[1]
    assert "taken" not in str(by_email[1]["detail"]).lower()


def test_registration_applies_the_password_policy(
    make_client: Callable[[Settings], TestClient], auth_settings: Callable[..., Settings]
) -> None:
    client = make_client(auth_settings(allow_registration=True, password_min_length=20))
    response = client.post(
        "/api/auth/register", json={"email": "a@example.com", "password": "nineteen characters"}
    )
    assert response.status_code == 422
    assert "at least 20 characters" in response.json()["detail"]


def test_registration_is_audited(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    db: Session,
) -> None:
    client = make_client(auth_settings(allow_registration=True))
    _register(client, "a@example.com")
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"user.created", "user.registered"} <= actions


def test_setup_is_audited_and_the_admin_can_sign_in(auth_client: TestClient, db: Session) -> None:
    created = auth_client.post(
        "/api/auth/setup",
        json={"username": "admin", "password": PASSWORD, "email": "Admin@Example.com"},
    )
    assert created.status_code == 201
    assert created.json()["user"]["email"] == "admin@example.com"
    auth_client.cookies.clear()
    login(auth_client, "admin")
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"user.created", "setup.completed", "login.succeeded"} <= actions


def test_setup_refuses_a_weak_password(auth_client: TestClient, db: Session) -> None:
    response = auth_client.post("/api/auth/setup", json={"username": "admin", "password": "short"})
    assert response.status_code == 422
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_concurrent_setups_create_exactly_one_admin(auth_client: TestClient, db: Session) -> None:
    def attempt(name: str) -> int:
        response = auth_client.post(
            "/api/auth/setup", json={"username": name, "password": PASSWORD}
        )
        return int(response.status_code)

    with ThreadPoolExecutor(max_workers=3) as pool:
        statuses = sorted(pool.map(attempt, ["one", "two", "three"]))
    assert statuses == [201, 409, 409]
    assert db.scalar(select(func.count()).select_from(User)) == 1
