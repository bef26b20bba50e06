"""One upload to ``POST /api/test-runs/upload``, after an optional login; failures as one line."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any, cast

import httpx

from playdeck import __version__
from playdeck.kit.retry import RetryPolicy, send_with_retries
from playdeck.pytest_plugin.connection import Connection
from playdeck.pytest_plugin.errors import SendError

UPLOAD_PATH = "/api/test-runs/upload"
LOGIN_PATH = "/api/auth/login"
CONNECT_TIMEOUT_SECONDS = 10.0
MAX_REASON_CHARS = 300


def client_headers(api_key: str | None) -> dict[str, str]:
    """The headers of every request the plugin sends: who it is, and the API key if given."""
    headers = {"User-Agent": f"playdeck-pytest/{__version__}", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def client_timeout(timeout: float) -> httpx.Timeout:
    """``timeout`` for each wait, but at most ``CONNECT_TIMEOUT_SECONDS`` to connect."""
    return httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_SECONDS))


def new_client(
    connection: Connection, *, timeout: httpx.Timeout | float | None = None
) -> httpx.Client:
    """A client with the plugin's headers, the API key among them (``sign_in`` for a username
    and password). ``timeout``: by default ``client_timeout`` of the connection's."""
    return httpx.Client(
        headers=client_headers(connection.api_key),
        timeout=client_timeout(connection.timeout) if timeout is None else timeout,
    )


def sign_in(client: httpx.Client, connection: Connection) -> None:
    """Sign ``client`` in when the connection has a username and password."""
    if connection.username and connection.password:
        _login(client, connection.server, connection.username, connection.password)


@dataclass(frozen=True, slots=True)
class FilePart:
    """A file sent as an ``attachment`` part named ``name`` (the path the report gives it)."""

    name: str
    path: str
    content_type: str


class _FileStream(io.RawIOBase):
    """A file read from disk only while its part is sent: one open file at a time, whatever
    the number of artifacts, and never a whole file in memory. Its size is taken up front
    (multipart needs it for ``Content-Length``)."""

    def __init__(self, part: FilePart) -> None:
        super().__init__()
        self.part = part
        self.size = os.stat(part.path).st_size
        self._handle: io.BufferedReader | None = None
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        # httpx seeks to the start before each (re)send, and to the end to learn the size.
        if whence == os.SEEK_END:
            return self.size + offset
        self._close_file()
        self._position = offset
        return offset

    def read(self, size: int = -1) -> bytes:
        if self._handle is None:
            try:
                self._handle = open(self.part.path, "rb")  # noqa: SIM115 - closed at the end
            except OSError as exc:
                raise SendError(f"artifact {self.part.path} vanished while uploading") from exc
            self._handle.seek(self._position)
        chunk = self._handle.read(size)
        self._position += len(chunk)
        if not chunk:
            self._close_file()
        return chunk

    def close(self) -> None:
        self._close_file()
        super().close()

    def _close_file(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def send_run(
    connection: Connection,
    *,
    report: bytes,
    fields: dict[str, str],
    say: Callable[[str], None] = print,
    files: Sequence[FilePart] = (),
) -> str:
    """Upload ``report`` (Playwright JSON) with ``fields`` and ``files``; returns the run's URL.
    Transient failures are retried ``connection.retries`` times at most, each retry announced
    through ``say``."""
    server = connection.server
    streams = []
    for part in files:
        try:
            streams.append(_FileStream(part))
        except OSError:  # gone since it was listed: the server counts it as missing
            say(f"playdeck: artifact {part.path} vanished before the upload")
    # httpx reads any object with read/seek/tell; typeshed's IO is a wider protocol.
    parts = [
        ("attachment", (stream.part.name, cast(IO[bytes], stream), stream.part.content_type))
        for stream in streams
    ]
    try:
        with new_client(connection) as client:
            sign_in(client, connection)

            def upload(parts: list[tuple[str, Any]]) -> httpx.Response:
                # One key for every attempt: a retry of an upload the server did store answers.
                key = {"Idempotency-Key": str(uuid.uuid4())}
                try:
                    return send_with_retries(
                        lambda: client.post(
                            server + UPLOAD_PATH,
                            data=fields,
                            files=[
                                ("file", ("pytest-report.json", report, "application/json")),
                                *parts,
                            ],
                            headers=key,
                        ),
                        policy=RetryPolicy(attempts=connection.retries + 1),
                        on_retry=lambda note: say(f"playdeck: upload to {server}: {note}"),
                    )
                except httpx.TransportError as exc:
                    raise SendError(_unreachable(server, exc)) from exc

            response = upload(parts)
            if response.status_code == httpx.codes.REQUEST_ENTITY_TOO_LARGE and parts:
                # The results matter more than their artifacts: keep the run.
                say(
                    f"playdeck: with its {len(parts)} artifact(s) the upload is over the "
                    "server's size limit (HTTP 413): sending the run without them"
                )
                response = upload([])
    finally:
        for stream in streams:
            stream.close()

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
