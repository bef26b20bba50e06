"""What Playwright's junit reporter writes, read back: which suites are its own, the retries
folded into a failure text (``Retry #N``), and ``[[ATTACHMENT|path]]`` lines in ``system-out``."""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from playdeck.ingest.parsers.junit_xml import local
from playdeck.ingest.parsers.reading import error_text
from playdeck.ingest.records import AttachmentRecord, AttemptRecord

_PLAYWRIGHT_FILE = re.compile(r"\.(?:spec|test)?\.?[cm]?[jt]sx?$")
PLAYWRIGHT_SEPARATOR = " \u203a "
PLAYWRIGHT_PROJECT_PREFIX = re.compile(r"^\[([^\]]*)\] \u203a ")
_PLAYWRIGHT_RETRY = re.compile(r"^[ \t]*Retry #(\d+) \u2500+[ \t]*$", re.MULTILINE)
PLAYWRIGHT_TIMEOUT = re.compile(r"^Test timeout of \d+ms exceeded")
ATTACHMENT_LINE = re.compile(r"^[ \t]*\[\[ATTACHMENT\|(.+?)\]\][ \t]*$\n?", re.MULTILINE)
_RETRY_DIR = re.compile(r"-retry(\d+)/")
# Attachment file names Playwright writes, to the names its JSON report gives them.
_ATTACHMENT_NAMES = {"trace.zip": "trace", "error-context.md": "error-context"}
_CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webm": "video/webm",
    ".zip": "application/zip",
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".json": "application/json",
    ".html": "text/html",
}


def is_playwright(suite: Element) -> bool:
    name = suite.get("name") or ""
    cases = [e for e in suite if local(e.tag) == "testcase"]
    return (
        bool(_PLAYWRIGHT_FILE.search(name))
        and suite.get("hostname") is not None
        and all(c.get("classname") == name for c in cases)
    )


def split_playwright_retries(final: AttemptRecord) -> list[AttemptRecord]:
    """Earlier attempts hidden in a Playwright failure text (``Retry #1 ────``), oldest first.

    The final attempt keeps the last section; earlier ones get the sections before it. Their
    durations are unknown: the testcase ``time`` is the sum of all of them.
    """
    stack = final.error_stack
    if not stack:
        return []
    sections = _PLAYWRIGHT_RETRY.split(stack)
    if len(sections) < 3:
        return []
    earlier = sections[0:-1:2]  # split() puts the captured retry numbers in between
    final.error_stack = error_text(sections[-1].strip("\n"))
    return [
        AttemptRecord(
            retry=0,
            status=final.status,
            error_message=final.error_message,
            error_stack=error_text(text.strip("\n")),
        )
        for text in earlier
    ]


def place_attachments(attempts: list[AttemptRecord], paths: list[str]) -> None:
    """Attachments to the attempt that wrote them: Playwright's ``-retryN`` output folders."""
    for raw in paths:
        path = raw.strip().replace("\\", "/")
        retry_dir = _RETRY_DIR.search(path)
        index = int(retry_dir[1]) if retry_dir else 0
        target = attempts[index] if index < len(attempts) else attempts[-1]
        file_name = path.rsplit("/", 1)[-1]
        extension = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
        content_type = _CONTENT_TYPES.get(extension, "application/octet-stream")
        name = _ATTACHMENT_NAMES.get(file_name)
        if name is None and content_type.startswith("image/"):
            name = "screenshot"
        elif name is None and content_type.startswith("video/"):
            name = "video"
        target.attachments.append(
            AttachmentRecord(name=name or file_name, content_type=content_type, path=path)
        )
