"""Jinja2 rendering for the HTML pages: one autoescaping environment, filters, the base context.

Every page goes through ``render``, which adds what the layout needs: the viewer (for the user
menu slot), the CSRF token every form must carry (empty while no session cookie authenticates
the request), and a one-shot notice (flash) set by the previous redirect.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from playdeck import __version__
from playdeck.auth.principal import CredentialKind, Principal
from playdeck.kit.text import format_size
from playdeck.settings import Settings
from playdeck.traces.recorded import is_trace
from playdeck.web.nav import ADMIN_LINKS

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
STATIC_PREFIX = "/static"

FLASH_COOKIE = "playdeck_flash"
# A flash cookie carries only one of these keys, never text: a cookie is client-controlled.
_FLASHES: dict[str, dict[str, str]] = {
    "success": {
        "project-created": "Project created. Send it a first run with one of the commands below.",
        # Identity pages (web/identity.py, web/onboarding.py, web/account.py).
        "signed-out": "You are signed out.",
        "signed-out-everywhere": "You are signed out on every device.",
        "welcome-admin": "Welcome! Your administrator account is ready.",
        "registered": "Your account is ready. Sign in to continue.",
        "invitation-accepted": "Your account is ready. Sign in to continue.",
        "invitation-accepted-sso": "Welcome! Your account is ready.",
        "password-reset": "Your password is set. Sign in with it.",
        "password-changed": "Password changed. Every other device has been signed out.",
        # Self-service (web/account_self_service.py, web/email_verification.py).
        "profile-saved": "Profile saved.",
        "email-link-sent": "We sent a link to your new email. Your email changes once you open it.",
        "email-verified": "Email verified.",
        "session-ended": "Session ended. That device is signed out.",
        # Administration pages (web/admin_users.py, web/api_keys.py, web/members.py).
        "user-created": "User created.",
        "user-activated": "User activated. They can sign in again.",
        "user-deactivated": (
            "User deactivated. Their sessions have ended and their API keys no longer work."
        ),
        "user-role-changed": "Role changed.",
        "user-unlocked": "Account unlocked.",
        "user-password-reset": "Password reset. Every session of that user has ended.",
        "user-deleted": "User deleted.",
        "api-key-revoked": "API key revoked. It stops working at once.",
        "service-account-created": "Service account created. Give it a key below.",
        "service-account-deleted": "Service account deleted. Its keys stopped working at once.",
        "member-added": "Member added.",
        "member-role-changed": "Member role changed.",
        "member-removed": "Member removed.",
        # Project settings and run actions (web/project_settings.py, web/run_actions.py).
        "project-updated": "Project saved.",
        "project-deleted": "Project deleted, with its runs and their files.",
        "retention-saved": (
            "Retention policy saved. It applies at the server's next prune (or run playdeck prune)."
        ),
        "run-pinned": "Run pinned: retention never deletes it.",
        "test-quarantined": "Test quarantined: its failures no longer fail CI.",
        "test-unquarantined": "Quarantine lifted: the test's failures fail CI again.",
        "run-unpinned": "Run unpinned: retention treats it like any other again.",
        "run-deleted": "Run deleted, with its results and files.",
        # Two-factor authentication (web/two_factor.py).
        "two-factor-disabled": "Two-factor authentication is off.",
        "two-factor-reset": (
            "Two-factor authentication reset: that user signs in with their password alone."
        ),
    },
    "info": {
        "setup-complete": "Setup is already complete. Sign in with your account.",
        "two-factor-enrolment-started": (
            "Add the key below to your authenticator app, then enter the code it shows."
        ),
    },
    "warning": {
        "email-link-not-mailed": (
            "This server sends no mail, so your new email cannot be verified here: ask an "
            "administrator to set it for you."
        ),
    },
}
FLASH_MESSAGES: dict[str, tuple[str, str]] = {
    key: (level, text) for level, texts in _FLASHES.items() for key, text in texts.items()
}


@dataclass(frozen=True, slots=True)
class Notice:
    level: str  # info | success | warning | error
    text: str


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking, as the layout's user-menu slot needs it."""

    name: str
    auth_enabled: bool
    signed_in: bool
    is_admin: bool
    role: str | None = None

    @classmethod
    def of(cls, principal: Principal | None, settings: Settings) -> Viewer | None:
        if principal is None:
            return None
        return cls(
            name=principal.username,
            auth_enabled=settings.require_auth,
            signed_in=principal.credential not in (CredentialKind.ANONYMOUS, CredentialKind.NONE),
            is_admin=principal.is_admin,
            role=principal.role.value if principal.role else None,
        )


def format_duration(ms: float | None) -> str:
    """``850 ms``, ``12.3 s``, ``4m 05s``, ``1h 02m``."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{round(ms)} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_percent(rate: float | None) -> str:
    if rate is None:
        return "—"
    value = rate * 100
    return f"{value:.0f}%" if value in (0, 100) else f"{value:.1f}%"


def format_utc(value: datetime | None) -> str:
    """The server-side text of a ``<time>`` element; the browser script localises it."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_day(value: datetime) -> str:
    """A chart axis's date: the UTC day, unambiguous in every locale."""
    return value.astimezone(UTC).strftime("%Y-%m-%d")


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def short_sha(value: str | None) -> str:
    return "" if not value else value[:8]


def http_url(value: str | None) -> str | None:
    """``value`` if it is an absolute http(s) URL, else ``None``.

    Report-supplied links (CI build URLs) go into ``href``; escaping does not stop a
    ``javascript:`` URL, so anything else is shown as text, never linked.
    """
    if not value:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return value.strip()


def with_query(request: Request, **changes: str | int | None) -> str:
    """The current path with its query updated: a ``None`` value drops the parameter."""
    params = {k: v for k, v in request.query_params.items() if v != ""}
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return f"{request.url.path}?{query}" if query else request.url.path


@cache
def _static_versions() -> dict[str, str]:
    """Content hash of each static file, so a new release never meets a stale cached asset."""
    versions = {}
    for path in STATIC_DIR.rglob("*"):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            versions[path.relative_to(STATIC_DIR).as_posix()] = digest
    return versions


def static_url(name: str) -> str:
    version = _static_versions().get(name, __version__)
    return f"{STATIC_PREFIX}/{name}?v={version}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        duration=format_duration,
        percent=format_percent,
        filesize=format_size,
        utc=format_utc,
        iso=iso,
        short_sha=short_sha,
        http_url=http_url,
        # Commands people copy into a shell: report-supplied names must stay one argument.
        shell=shlex.quote,
    )
    env.tests["trace_attachment"] = lambda file: is_trace(file.name, file.content_type)
    env.globals.update(static_url=static_url, version=__version__, admin_links=ADMIN_LINKS)
    return env


def _flash(request: Request) -> Notice | None:
    found = FLASH_MESSAGES.get(request.cookies.get(FLASH_COOKIE, ""))
    return Notice(*found) if found else None


def set_flash(response: Response, key: str) -> None:
    """Show the notice ``key`` (of ``FLASH_MESSAGES``) on the next page this browser renders."""
    assert key in FLASH_MESSAGES
    response.set_cookie(FLASH_COOKIE, key, max_age=60, path="/", httponly=True, samesite="lax")


def render(
    request: Request,
    template: str,
    *,
    principal: Principal | None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    notices: list[Notice] | None = None,
    **context: Any,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    flash = _flash(request)
    all_notices = [*(notices or []), *([flash] if flash else [])]
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            path=request.url.path,
            viewer=Viewer.of(principal, settings),
            csrf_token=(principal.csrf_token if principal else None) or "",
            notices=all_notices,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax")
    return response
