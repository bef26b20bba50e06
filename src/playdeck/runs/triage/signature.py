"""A failure's signature: what stays the same when the same fault fails another test, another
browser or another run.

The error message with the parts that vary masked (quoted text, numbers and timings, ids and
hashes, URLs, paths), plus the top frames of the stack (file and function, never line numbers)
outside third-party code. Two failures with the same signature are one failure group. Pure: text
in, text out.
"""

from __future__ import annotations

import hashlib
import re

from playdeck.kit.text import strip_ansi

# How much of a message and of a stack make the signature.
MESSAGE_LINES = 4
STACK_FRAMES = 2
MAX_LINE = 300

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_QUOTED = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\\n]|\\.)*`""")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_HEX = re.compile(r"\b(?:0x)?[0-9a-f]*\d[0-9a-f]*[a-f][0-9a-f]*\b|\b[0-9a-f]{8,}\b", re.I)
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@~+-]+){2,}[\\/]?")
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*(?:ms|s|m|h|px|%|kb|mb|gb)?\b", re.I)
_SPACE = re.compile(r"\s+")
# A JavaScript/Python stack frame: "at fn (file:line:col)", "at file:line:col",
# 'File "x.py", line 3, in fn'.
_JS_FRAME = re.compile(r"^\s*at (?:(?P<fn>[^(]+?) \()?(?P<file>[^():]+?)(?::\d+){0,2}\)?\s*$")
_PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line \d+, in (?P<fn>\S+)')
_THIRD_PARTY = ("node_modules", "site-packages", "node:internal", "<frozen", "internal/")


def mask(line: str) -> str:
    """One message line with what varies from one occurrence to the next masked."""
    line = _URL.sub("<url>", line)
    line = _QUOTED.sub("<str>", line)
    line = _UUID.sub("<id>", line)
    line = _PATH.sub("<path>", line)
    line = _HEX.sub("<id>", line)
    line = _NUMBER.sub("<n>", line)
    return _SPACE.sub(" ", line).strip()[:MAX_LINE]


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path.strip())[-1]


def top_frames(stack: str | None, *, limit: int = STACK_FRAMES) -> list[str]:
    """The first ``limit`` frames of the stack in the project's own code, as ``file:function``
    (``file`` without its folder, never a line number)."""
    frames: list[str] = []
    for line in strip_ansi(stack or "").splitlines():
        found = _JS_FRAME.match(line) or _PY_FRAME.match(line)
        if found is None or any(part in line for part in _THIRD_PARTY):
            continue
        function = (found.group("fn") or "").strip()
        frames.append(
            f"{_basename(found.group('file'))}:{function}"
            if function
            else _basename(found.group("file"))
        )
        if len(frames) == limit:
            break
    return frames


def normalise(message: str | None, stack: str | None) -> str:
    """The text a signature is the hash of: masked message lines, then the top frames."""
    lines = []
    for raw in strip_ansi(message or "").splitlines():
        if _JS_FRAME.match(raw) or _PY_FRAME.match(raw):
            break  # a message that carries its own stack: the frames come from ``stack``
        masked = mask(raw)
        if masked:
            lines.append(masked)
        if len(lines) == MESSAGE_LINES:
            break
    frames = top_frames(stack if stack else message)
    return "\n".join([*lines, *(f"at {frame}" for frame in frames)])


def signature(message: str | None, stack: str | None) -> str:
    """16 hex digits naming the failure group of an error (``normalise``'s text, hashed)."""
    return hashlib.sha256(normalise(message, stack).encode()).hexdigest()[:16]
