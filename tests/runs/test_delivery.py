from __future__ import annotations

import gc
from pathlib import Path

from playdeck.runs.files.delivery import file_response
from playdeck.storage.filesystem import FilesystemBlobStore


def test_a_response_that_is_never_sent_holds_no_open_file(tmp_path: Path) -> None:
    """A client that goes away before the body starts must not leak a file handle (a leaked
    handle surfaces here as an unraisable ResourceWarning, which fails the test)."""
    store = FilesystemBlobStore(tmp_path)
    blob = store.put_bytes(b"screenshot bytes")
    response = file_response(
        store,
        sha256=blob.sha256,
        size=blob.size,
        content_type="image/png",
        filename="shot.png",
        if_none_match=None,
        content_base="http://testserver/api/attachments/1",
        viewer="/attachments/1",
        fetch_dest=None,
    )
    assert response.headers["content-length"] == str(blob.size)
    del response
    gc.collect()
