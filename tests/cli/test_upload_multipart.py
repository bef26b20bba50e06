"""The streamed multipart body: exact length, and parsed back by the server's multipart parser."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator
from pathlib import Path

import pytest
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartParser

from playdeck.cli.multipart import CHUNK_BYTES, FileChangedError, FilePart, MultipartBody


def parse(body: MultipartBody, data: bytes) -> dict[str, object]:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield data

    async def run() -> dict[str, object]:
        headers = Headers({"content-type": body.content_type})
        form = await MultiPartParser(headers, stream()).parse()
        parsed: dict[str, object] = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                parsed[name] = (value.filename, value.content_type, await value.read())
            else:
                parsed[name] = value
        await form.close()
        return parsed

    return asyncio.run(run())


def test_body_length_and_progress_match_the_bytes_sent(tmp_path: Path) -> None:
    payload = os.urandom(2 * CHUNK_BYTES + 5)
    (tmp_path / "trace.zip").write_bytes(payload)
    body = MultipartBody(
        [("projectName", "wéb ✓"), ("tags", "a,b")],
        [FilePart.for_path(tmp_path / "trace.zip", filename='odd "name".zip')],
    )
    reported: list[int] = []

    chunks = list(body.chunks(reported.append))

    data = b"".join(chunks)
    assert len(data) == body.length == sum(reported)
    assert max(len(c) for c in chunks) <= CHUNK_BYTES
    assert parse(body, data) == {
        "projectName": "wéb ✓",
        "tags": "a,b",
        "file": ("odd %22name%22.zip", "application/zip", payload),
    }


def test_file_that_grows_during_upload_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(b"{}")
    body = MultipartBody([], [FilePart.for_path(path)])
    path.write_bytes(b'{"grown": true}')

    with pytest.raises(FileChangedError):
        b"".join(body.chunks())
