"""What the commands that talk to a Playdeck server share (``upload``, ``gate``): the server
and credential options, the ``Connection`` they make of them (checked once: one credential,
sent the same way), logging in, and the ``Reporter`` that prints one-line messages (a refusal,
an unreachable server) with the command's secrets redacted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

import httpx
import orjson
import typer
from rich.console import Console
from rich.markup import escape

from playdeck import __version__

LOGIN_PATH = "/api/auth/login"
MAX_MESSAGE_CHARS = 500
EXIT_REFUSED = 1
EXIT_USAGE = 2


class Reporter:
    """One-line messages on stderr, with the command's secrets redacted."""

    def __init__(self, console: Console, secrets: list[str]) -> None:
        self.console = console
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def one_line(self, text: str) -> str:
        text = " ".join(self.redact(text).split())
        if len(text) > MAX_MESSAGE_CHARS:
            text = text[: MAX_MESSAGE_CHARS - 1] + "…"
        return text

    def info(self, text: str) -> None:
        self.console.print(escape(self.one_line(text)), soft_wrap=True, highlight=False)

    def warn(self, text: str) -> None:
        self.console.print(
            f"[yellow]playdeck: warning: {escape(self.one_line(text))}[/]",
            soft_wrap=True,
            highlight=False,
        )

    def fail(self, text: str, code: int = EXIT_REFUSED) -> NoReturn:
        self.console.print(
            f"[red]playdeck: {escape(self.one_line(text))}[/]", soft_wrap=True, highlight=False
        )
        raise typer.Exit(code)


# The server and the credentials, for the commands that talk to a server (upload, gate).
ServerOption = Annotated[
    str,
    typer.Option(
        envvar="PLAYDECK_SERVER_URL",
        show_default=False,
        help="Playdeck server, e.g. http://127.0.0.1:8001.",
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        envvar="PLAYDECK_API_KEY",
        show_default=False,
        show_envvar=True,
        help="API key, sent as Authorization: Bearer (the runs:write scope is enough).",
    ),
]
UsernameOption = Annotated[
    str | None,
    typer.Option(envvar="PLAYDECK_USERNAME", help="Log in as this user (with --password)."),
]
PasswordOption = Annotated[
    str | None,
    typer.Option(envvar="PLAYDECK_PASSWORD", show_default=False, help="Password."),
]


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object; ``None`` for anything else (a proxy's HTML error page)."""
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _problem_detail(response: httpx.Response) -> str:
    """The server's reason: problem+json ``detail`` (with field errors), else the status phrase."""
    body = json_object(response)
    if body is not None:
        detail = body.get("detail") or body.get("title") or body.get("message")
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            fields = [
                f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                for e in errors[:3]
                if isinstance(e, dict)
            ]
            detail = f"{detail or ''} ({'; '.join(fields)})".strip()
        if isinstance(detail, str) and detail:
            return detail
    return response.reason_phrase or "no reason given"


def refusal_message(action: str, response: httpx.Response) -> str:
    if response.is_redirect:
        target = response.headers.get("location", "?")
        return (
            f"{action} refused: HTTP {response.status_code} redirect to {target} "
            "(use that address as --server)"
        )
    return f"{action} refused (HTTP {response.status_code}): {_problem_detail(response)}"


def unreachable_message(server: str, exc: httpx.TransportError) -> str:
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        reason = f"timed out ({type(exc).__name__})"
    return f"cannot reach {server}: {reason}"


def normalise_server(server: str, out: Reporter) -> str:
    server = server.strip().rstrip("/")
    if not server.startswith(("http://", "https://")):
        out.fail(f"--server must start with http:// or https:// (got {server!r})", EXIT_USAGE)
    return server


def login(
    client: httpx.Client,
    server: str,
    username: str,
    password: str,
    out: Reporter,
    refused: int = EXIT_REFUSED,
) -> None:
    """Log in, then authenticate the client's requests with the bearer access token (or, from
    servers that answer with a session cookie only, with that cookie, which the client keeps).
    A refusal or an unreachable server ends the command with exit status ``refused``."""
    try:
        response = client.post(
            server + LOGIN_PATH, json={"username": username, "password": password}
        )
    except httpx.TransportError as exc:
        out.fail(unreachable_message(server, exc), refused)
    if not response.is_success:
        out.fail(refusal_message("login", response), refused)
    body = json_object(response)
    token = body.get("access_token") if body is not None else None
    if isinstance(token, str) and token:
        out.secrets.append(token)
        client.headers["Authorization"] = f"Bearer {token}"
        # A bearer request needs no cookie, and a cookie would make it a CSRF-checked one.
        client.cookies.clear()
    elif not client.cookies:
        out.fail("login answered without an access token or a session cookie", refused)


@dataclass(frozen=True, slots=True)
class Connection:
    """A server and the one credential a command was given for it: an API key, or a username
    and password to log in with (or none). Its messages go through ``out``, which redacts the
    secrets."""

    server: str
    out: Reporter
    api_key: str | None
    username: str | None
    password: str | None

    @classmethod
    def of(
        cls, server: str, *, api_key: str | None, username: str | None, password: str | None
    ) -> Connection:
        """The options as given, checked: a usable ``--server``, and not two credentials or
        half of one (exit status 2)."""
        out = Reporter(Console(stderr=True), [api_key or "", password or ""])
        server = normalise_server(server, out)
        if api_key and (username or password):
            out.fail("give either --api-key or --username/--password, not both", EXIT_USAGE)
        if bool(username) != bool(password):
            out.fail("--username and --password go together", EXIT_USAGE)
        return cls(server, out, api_key, username, password)

    @contextmanager
    def client(
        self, timeout: float | httpx.Timeout, *, refused: int = EXIT_REFUSED
    ) -> Iterator[httpx.Client]:
        """An HTTP client whose requests carry the credential: the API key as a bearer token,
        else the one logging in with the username and password answers (``login``, which ends
        the command with exit status ``refused`` if it fails)."""
        headers = {"User-Agent": f"playdeck-cli/{__version__}", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        with httpx.Client(headers=headers, timeout=timeout) as client:
            if self.username and self.password:
                login(client, self.server, self.username, self.password, self.out, refused)
            yield client
