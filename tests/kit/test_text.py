"""kit.text.clean_text: what report text keeps, with or without escapes and NULs."""

from __future__ import annotations

import pytest

from playdeck.kit.text import clean_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain title", "plain title"),
        ("\x1b[31mred\x1b[0m text", "red text"),
        ("a\x00b", "ab"),
        ("\x1b]8;;https://x\x07link\x1b]8;;\x07 and \x00nul", "link and nul"),
        ("", ""),
    ],
)
def test_clean_text_strips_escapes_and_nuls_only_where_they_are(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_clean_text_cuts_after_cleaning() -> None:
    assert clean_text("\x1b[1m" + "x" * 12, limit=10) == "x" * 10 + "\n… [truncated 2 characters]"


def test_clean_text_keeps_none() -> None:
    assert clean_text(None) is None
