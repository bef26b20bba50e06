"""Quarantine on a test's page: the form, the state it shows, lifting it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Test
from tests.fixtures.runs import MakeRun, case

HTML = {"accept": "text/html"}


def test_quarantine_and_lift_from_the_tests_page(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    make_run([case("checkout", "failed")], project="web")
    test_id = db.scalars(select(Test.id)).one()
    page = client.get(f"/tests/{test_id}", headers=HTML).text
    assert "Quarantine this test" in page

    posted = client.post(
        f"/tests/{test_id}/quarantine",
        data={"reason": "payment <sandbox> is down", "expires_days": "7"},
        follow_redirects=False,
    )
    assert posted.status_code == 303 and posted.headers["location"] == f"/tests/{test_id}"
    page = client.get(f"/tests/{test_id}", headers=HTML).text
    assert "payment &lt;sandbox&gt; is down" in page
    assert "Its failures do not fail CI" in page and "lapses" in page
    assert "Test quarantined" in page  # the flash notice

    lifted = client.post(f"/tests/{test_id}/unquarantine", follow_redirects=False)
    assert lifted.status_code == 303
    assert "Quarantine this test" in client.get(f"/tests/{test_id}", headers=HTML).text


def test_the_form_refuses_a_missing_reason_or_an_unoffered_expiry(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    make_run([case("checkout", "failed")], project="web")
    test_id = db.scalars(select(Test.id)).one()
    for form in ({"reason": " "}, {"reason": "ok", "expires_days": "3"}):
        refused = client.post(f"/tests/{test_id}/quarantine", data=form)
        assert refused.status_code == 422
    assert "Quarantine this test" in client.get(f"/tests/{test_id}", headers=HTML).text
    assert client.post("/tests/abc/quarantine", data={"reason": "x"}).status_code == 404
