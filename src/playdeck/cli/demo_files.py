"""The files a failed attempt of the demo carries: a page-like screenshot per spec file (a PNG
drawn from flat rectangles), a small trace zip and a page snapshot."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from functools import cache

from playdeck.ingest.records import AttachmentRecord


def _png(
    width: int, height: int, rects: list[tuple[int, int, int, int, tuple[int, int, int]]]
) -> bytes:
    """A PNG of flat rectangles (later ones on top) on white: a page-like screenshot."""
    canvas = [bytearray(b"\xff" * (width * 3)) for _ in range(height)]
    for x, y, w, h, colour in rects:
        span = bytes(colour) * w
        for row in canvas[y : y + h]:
            row[x * 3 : (x + w) * 3] = span
    raw = b"".join(b"\x00" + bytes(row) for row in canvas)

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


@cache
def screenshot(file: str) -> bytes:
    rng = random.Random(file)  # noqa: S311 - demo pictures, not secrets
    accent = (rng.randrange(20, 120), rng.randrange(80, 160), rng.randrange(150, 230))
    grey, line, red = (236, 239, 243), (208, 213, 220), (207, 34, 46)
    rects = [(0, 0, 640, 44, (36, 41, 47)), (16, 14, 90, 16, accent), (0, 44, 150, 356, grey)]
    rects += [(16, 64 + 28 * i, 110, 10, line) for i in range(8)]
    for i in range(6):
        rects.append((176, 70 + 34 * i, rng.randrange(200, 430), 12, line))
    rects += [
        (176, 290, 120, 34, accent),
        (318, 284, 250, 46, red),
        (322, 288, 242, 38, (255, 241, 240)),
    ]
    rects.append((334, 302, 150, 10, red))
    return _png(640, 400, rects)


def trace(title: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("trace.trace", date_time=(2024, 1, 1, 0, 0, 0))
        archive.writestr(info, f'{{"type":"context-options","title":"{title}"}}\n')
    return buffer.getvalue()


def failure_files(file: str, title: str) -> list[AttachmentRecord]:
    snapshot = (
        f'# Page snapshot\n\n```yaml\n- banner: Acme Shop\n- main:\n  - heading "{title}"\n```\n'
    )
    return [
        AttachmentRecord(name="screenshot", content_type="image/png", body=screenshot(file)),
        AttachmentRecord(name="trace", content_type="application/zip", body=trace(title)),
        AttachmentRecord(
            name="error-context", content_type="text/markdown", body=snapshot.encode()
        ),
    ]
