"""The README's configuration table is the user's reference: it must name every setting."""

from __future__ import annotations

from pathlib import Path

from playdeck.settings import Settings

README = Path(__file__).parents[1] / "README.md"


def test_readme_configuration_table_lists_every_setting() -> None:
    text = README.read_text()
    missing = [
        f"PLAYDECK_{name.upper()}"
        for name in Settings.model_fields
        if f"`PLAYDECK_{name.upper()}`" not in text
    ]
    assert missing == []


def test_readme_has_the_two_commands() -> None:
    text = README.read_text()
    assert ".venv/bin/playdeck serve" in text
    assert ".venv/bin/pytest" in text
