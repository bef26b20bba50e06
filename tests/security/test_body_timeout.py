"""A request body that stalls is answered 408 and leaves no temporary file behind: a raw socket
against ``playdeck serve`` sends part of an upload and stops."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from .serving import ServedProcess, playdeck_serve

TIMEOUT_SECONDS = 2
BOUNDARY = "playdeckstall"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> Iterator[tuple[ServedProcess, Path]]:
    tmp_path = tmp_path_factory.mktemp("serve")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {
        "PLAYDECK_DATABASE_URL": database_url,
        "PLAYDECK_DATA_DIR": str(tmp_path / "data"),
        "PLAYDECK_BODY_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        "TMPDIR": str(temp),
    }
    with playdeck_serve(tmp_path, env) as served:
        yield served, temp


def _head(path: str, port: int, content_type: str, length: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def _read_response(sock: socket.socket) -> tuple[int, dict[str, object]]:
    sock.settimeout(TIMEOUT_SECONDS * 10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "connection closed without a response"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ", 2)[1]), orjson.loads(body[:length])


def _temp_files(served: ServedProcess, temp: Path) -> list[str]:
    return [t for t in served.open_files() if t.startswith(str(temp))]


def test_a_stalled_upload_is_408_and_its_temp_files_are_closed(
    server: tuple[ServedProcess, Path],
) -> None:
    served, temp = server
    part_head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="report.json"\r\nContent-Type: application/json\r\n\r\n'
    ).encode()
    sent = part_head + b" " * (3 * 1024 * 1024)  # past the 1 MiB in-memory spool: a disk file
    head = _head(
        "/api/test-runs/upload?projectName=shop",
        served.port,
        f"multipart/form-data; boundary={BOUNDARY}",
        len(sent) + 10 * 1024 * 1024,
    )
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(head + sent)
        # While the body is pending the server holds a spooled temp file (proves we can see it).
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while not _temp_files(served, temp) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _temp_files(served, temp), "the upload never reached a temporary file"
        status, problem = _read_response(sock)
    assert status == 408
    assert problem["code"] == "body_timeout"
    assert problem["status"] == 408
    assert _temp_files(served, temp) == []
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/test-runs/submit?projectName=shop", "application/json"),
        ("/api/projects", "application/json"),  # a route whose body FastAPI reads itself
    ],
)
def test_a_stalled_json_body_is_408(
    server: tuple[ServedProcess, Path], path: str, content_type: str
) -> None:
    served, _ = server
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(_head(path, served.port, content_type, 1000) + b'{"name": "sh')
        status, problem = _read_response(sock)
    assert status == 408, problem
    assert problem["code"] == "body_timeout"


def test_a_trickling_body_is_408(server: tuple[ServedProcess, Path]) -> None:
    """One byte a second never stalls for the timeout, yet stays far below the minimum rate."""
    served, _ = server
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(_head("/api/projects", served.port, "application/json", 100_000))
        sock.settimeout(0.5)
        status = None
        for _ in range(TIMEOUT_SECONDS * 10):
            try:
                sock.sendall(b" ")
            except OSError:
                break  # the server answered and closed
            time.sleep(0.5)
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break
            except TimeoutError:
                continue
        status, problem = _read_response(sock)
    assert status == 408
    assert problem["code"] == "body_timeout"
