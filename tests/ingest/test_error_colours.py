"""Playwright's code frame and coloured message are kept (ANSI SGR only) for the run page."""

from __future__ import annotations

from pathlib import Path

import orjson

from playdeck.ingest.parsers.error_colours import coloured
from playdeck.ingest.parsers.playwright_json import parse_playwright_json

REPORT = Path(__file__).resolve().parent.parent / "data" / "playwright" / "report.json"


def test_failing_attempts_keep_the_snippet_and_the_coloured_message() -> None:
    run = parse_playwright_json(orjson.loads(REPORT.read_bytes()))
    test = next(t for t in run.tests if t.title_path[-1] == "failing expectation")
    attempt = test.attempts[-1]
    assert "\x1b[" not in (attempt.error_message or "")  # the plain message stays plain
    assert "Expected: \x1b[32m" in attempt.extra["error_ansi"]
    assert "\x1b[31m\x1b[1m>\x1b[22m\x1b[39m\x1b[90m 22 |" in attempt.extra["snippet"]
    passed = next(t for t in run.tests if t.outcome == "passed")
    assert "snippet" not in passed.attempts[0].extra


def test_only_colour_codes_survive_and_the_text_is_bounded() -> None:
    assert coloured("\x1b]8;;http://x\x07a\x1b[2Kb\x1b[31mc\x00", 100) == "ab\x1b[31mc"
    assert coloured("x" * 50, 10) == "x" * 10
    assert coloured("  \n", 10) is None
