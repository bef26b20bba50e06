"""Quarantining a test from its page in real Chromium, and lifting it again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Test

from .conftest import BrowserPage, MakeRun, case

pytestmark = pytest.mark.browser


def test_a_member_quarantines_a_test_on_its_page_and_lifts_it(
    make_live_server: Callable[..., Any],
    make_page: Callable[..., BrowserPage],
    make_run: MakeRun,
    db: Session,
) -> None:
    server = make_live_server()
    make_run([case("pays by card", "failed")], project="shop")
    test_id = db.scalars(select(Test.id)).one()
    db.rollback()

    browser_page = make_page()
    page = browser_page.page
    page.goto(f"{server.url}/tests/{test_id}")
    page.get_by_text("Quarantine this test…").click()
    page.get_by_label("Reason").fill("payment sandbox down (INC-42)")
    page.get_by_label("Lapses").select_option("30")
    with page.expect_navigation():
        page.get_by_role("button", name="Quarantine", exact=True).click()

    panel = page.locator("#quarantine")
    assert "Its failures do not fail CI" in panel.inner_text()
    assert "payment sandbox down (INC-42)" in panel.inner_text()
    assert "lapses" in panel.inner_text()
    assert "Test quarantined" in page.locator("body").inner_text()

    with page.expect_navigation():
        page.get_by_role("button", name="Lift quarantine").click()
    assert "Quarantine this test…" in page.locator("#quarantine").inner_text()
    assert browser_page.errors == []
