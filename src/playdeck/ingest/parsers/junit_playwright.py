"""What Playwright's junit reporter writes, read back: which suites are its own, the retries
folded into a failure text (``Retry #N``), and ``[[ATTACHMENT|path]]`` lines in ``system-out``."""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from playdeck.ingest.parsers.junit_xml import local
from playdeck.ingest.parsers.reading import error_text
from playdeck.ingest.records import AttachmentRecord, AttemptRecord
from playdeck.outcomes import AttemptStatus

_PLAYWRIGHT_FILE = re.compile(r"\.(?:spec|test)?\.?[cm]?[jt]sx?$")
PLAYWRIGHT_SEPARATOR = " \u203a "
PLAYWRIGHT_PROJECT_PREFIX = re.compile(r"^\[([^\]]*)\] \u203a ")
_PLAYWRIGHT_RETRY = re.compile(r"^[ \t]*Retry #(\d+) \u2500+[ \t]*$", re.MULTILINE)
PLAYWRIGHT_TIMEOUT = re.compile(r"^Test timeout of \d+ms exceeded")
ATTACHMENT_LINE = re.compile(r"^[ \t]*\[\[ATTACHMENT\|(.+?)\]\][ \t]*$\n?", re.MULTILINE)
_RETRY_DIR = re.compile(r"-retry(\d+)/")
# Files Playwright writes only for an attempt that failed: the ``only-on-failure`` screenshot and
# the error context.
_FAILURE_EVIDENCE = re.compile(r"(?:^|/)(?:test-failed-\d+\.png|error-context\.md)$")
# What is left of a colour code once Playwright's XML escaping dropped its ESC character
# (``attempt [33m0[39m``); its junit reporter strips the whole code only when told to.
_COLOUR_REMNANT = re.compile(r"\[(?:\d{1,3}(?:;\d{1,3}){0,4})?m")
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
            duration_ms=None,
            error_message=final.error_message,
            error_stack=error_text(text.strip("\n")),
        )
        for text in earlier
    ]


def strip_colour_remnants(text: str | None) -> str | None:
    return _COLOUR_REMNANT.sub("", text) if text else text


def attempt_of(path: str) -> int:
    """The attempt whose output folder holds ``path``: N for ``…-retryN/``, else 0."""
    retry_dir = _RETRY_DIR.search(path.strip().replace("\\", "/"))
    return int(retry_dir[1]) if retry_dir else 0


def infer_attempts(
    final: AttemptRecord, earlier: list[AttemptRecord], paths: list[str]
) -> list[AttemptRecord]:
    """Every attempt of a Playwright testcase written without ``includeRetries``, oldest first.

    The failure text holds the failed retries (``Retry #N``). A passed testcase whose output
    folders hold what Playwright writes only for a failed attempt (``test-failed-1.png``,
    ``error-context.md``) was flaky: those attempts failed, and a later one passed.
    """
    attempts = [*earlier, final]
    if final.status is not AttemptStatus.PASSED:
        return attempts
    failed = [attempt_of(p) for p in paths if _FAILURE_EVIDENCE.search(p.replace("\\", "/"))]
    if not failed:
        return attempts
    folders = max((attempt_of(p) for p in paths), default=0)
    count = max(max(failed) + 2, folders + 1)
    inferred = [
        AttemptRecord(
            retry=0, status=AttemptStatus.FAILED, duration_ms=None, extra={"inferred": True}
        )
        for _ in range(count - len(attempts))
    ]
    return [*earlier, *inferred, final]


def place_attachments(attempts: list[AttemptRecord], paths: list[str]) -> None:
    """Attachments to the attempt that wrote them: Playwright's ``-retryN`` output folders."""
    for raw in paths:
        path = raw.strip().replace("\\", "/")
        index = attempt_of(path)
        target = attempts[index] if index < len(attempts) else attempts[-1]
        file_name = path.rsplit("/", 1)[-1]
        extension = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
        content_type = _CONTENT_TYPES.get(extension, "application/octet-stream")
        name = _ATTACHMENT_NAMES.get(file_name)
        if name is None and content_type.startswith("image/"):
            name = "screenshot"
        elif name is None and content_type.startswith("video/"):
            name = "video"
        found = AttachmentRecord(name=name or file_name, content_type=content_type, path=path)
        target.attachments = [*target.attachments, found]
