"""axe-core (the npm package, from the Node test project's node_modules) run in a real page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

AXE = (
    Path(__file__).resolve().parents[1]
    / "clients"
    / "playwright-project"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)
BLOCKING = frozenset({"serious", "critical"})


def axe_source() -> str:
    if not AXE.exists():
        pytest.skip(
            f"axe-core is missing at {AXE}: npm ci --prefix tests/clients/playwright-project"
        )
    return AXE.read_text(encoding="utf-8")


def blocking_violations(page: Page, source: str) -> list[str]:
    """Every serious or critical axe violation on the page as "rule: target" lines.

    The script is evaluated through the DevTools protocol, which the page's CSP does not
    govern; the page itself still runs under its own policy."""
    page.evaluate(source)
    result: dict[str, Any] = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in result["violations"]:
        if violation.get("impact") not in BLOCKING:
            continue
        for node in violation["nodes"]:
            found.append(f"{violation['id']} ({violation['impact']}): {node['target']}")
    return found
