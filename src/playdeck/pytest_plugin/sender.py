"""One upload to ``POST /api/test-runs/upload``, after an optional login; failures as one line."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from playdeck import __version__
from playdeck.kit.retry import RetryPolicy, send_with_retries
from playdeck.pytest_plugin.errors import SendError

UPLOAD_PATH = "/api/test-runs/upload"
LOGIN_PATH = "/api/auth/login"
CONNECT_TIMEOUT_SECONDS = 10.0
MAX_REASON_CHARS = 300


def send_run(
    *,
    server: str,
    api_key: str | None,
    username: str | None,
    password: str | None,
    report: bytes,
    fields: dict[str, str],
    timeout: float,
    say: Callable[[str], None] = print,
    retries: int = 4,
) -> str:
    """Upload ``report`` (Playwright JSON) with ``fields``; returns the run's URL. Transient
    failures are retried ``retries`` times at most, each retry announced through ``say``."""
    headers = {"User-Agent": f"playdeck-pytest/{__version__}", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    client_timeout = httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_SECONDS))
    with httpx.Client(headers=headers, timeout=client_timeout) as client:
        if username and password:
            _login(client, server, username, password)
        # One key for every attempt: a retry of an upload the server did store answers it.
        key = {"Idempotency-Key": str(uuid.uuid4())}
        try:
            response = send_with_retries(
                lambda: client.post(
                    server + UPLOAD_PATH,
                    data=fields,
                    files={"file": ("pytest-report.json", report, "application/json")},
                    headers=key,
                ),
                policy=RetryPolicy(attempts=retries + 1),
                on_retry=lambda note: say(f"playdeck: upload to {server}: {note}"),
            )
        except httpx.TransportError as exc:
            raise SendError(_unreachable(server, exc)) from exc
    if not response.is_success:
        raise SendError(_refusal("upload", response))
    url = _json(response).get("url")
    if not isinstance(url, str) or not url:
        raise SendError(f"unexpected answer from {server} (HTTP {response.status_code}): not a run")
    return url


def _login(client: httpx.Client, server: str, username: str, password: str) -> None:
    """Log in and send the upload with the bearer access token (never the session cookie,
    which would make the upload a CSRF-checked browser request)."""
    try:
        response = client.post(
            server + LOGIN_PATH, json={"username": username, "password": password}
        )
    except httpx.TransportError as exc:
        raise SendError(_unreachable(server, exc)) from exc
    if not response.is_success:
        raise SendError(_refusal("login", response))
    token = _json(response).get("access_token")
    if not isinstance(token, str) or not token:
        raise SendError("login answered without an access token")
    client.headers["Authorization"] = f"Bearer {token}"
    client.cookies.clear()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _refusal(action: str, response: httpx.Response) -> str:
    if response.is_redirect:
        target = response.headers.get("location", "?")
        return f"{action} refused: HTTP {response.status_code} redirect to {target}"
    body = _json(response)
    detail = body.get("detail") or body.get("title") or body.get("message")
    if not isinstance(detail, str) or not detail:
        detail = response.reason_phrase or "no reason given"
    return f"{action} refused (HTTP {response.status_code}): {detail[:MAX_REASON_CHARS]}"


def _unreachable(server: str, exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"cannot reach {server}: timed out ({type(exc).__name__})"
    return f"cannot reach {server}: {exc or type(exc).__name__}"
