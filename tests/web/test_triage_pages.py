"""``/projects/{slug}/failures`` and ``/runs/{id}/compare``: the triage API's answers as pages."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tests.runs.test_triage_api import _history

from .conftest import MakeRun, case, get_page


def test_failure_groups_page_lists_groups_with_their_tests(
    client: TestClient, make_run: MakeRun
) -> None:
    runs = _history(make_run)
    response, page = get_page(client, "/projects/demo/failures")
    titles = re.findall(r'class="failure-group__title"><code>([^<]*)</code>', response.text)
    assert [html.unescape(t) for t in titles] == [
        "Timeout 5000ms waiting for 'button#pay'",
        "login failed",
        "search broke",
        'Expected: "Total 12" Received: "Total 13"',
    ]
    assert f"/runs/{runs['r4']}" in page.links()
    selected = [o.attrs["value"] for o in page.all("option") if "selected" in o.attrs]
    assert selected == ["main"]  # the default branch
    # Every branch: the refund test joins the timeout group.
    _response, every = get_page(client, "/projects/demo/failures?branch=")
    assert "refund" in every.text and "3 tests" in " ".join(every.text.split())
    _response, empty = get_page(client, "/projects/demo/failures?days=1&branch=feat")
    assert "No failures on feat in the last 1 days." in empty.text
    get_page(client, "/projects/demo/failures?days=0", status=422)


def test_compare_page_classifies_failures_and_lists_changes(
    client: TestClient, make_run: MakeRun
) -> None:
    runs = _history(make_run)
    _response, detail = get_page(client, f"/runs/{runs['r4']}")
    assert f"/runs/{runs['r4']}/compare" in detail.links()
    response, page = get_page(client, f"/runs/{runs['r4']}/compare")
    kinds = re.findall(r'class="badge triage-[a-z_]+">([^<]+)<', response.text)
    assert kinds == ["new", "still failing", "flaky"]
    text = " ".join(page.text.split())
    assert "New 1" in text and "Still failing 1" in text and "Fixed 2" in text
    assert "Newly failing (1)" in text and "New tests (1)" in text
    assert f"/runs/{runs['r2']}" in page.links()
    # Against a chosen run: only the differences.
    _response, chosen = get_page(client, f"/runs/{runs['r4']}/compare?base={runs['r3']}")
    assert "Failures of this run" not in chosen.text
    changes = " ".join(chosen.text.split())
    assert "Fixed (2)" in changes and "Newly failing (2)" in changes  # against r3 (feat)


def test_compare_page_of_a_first_run_and_its_refusals(
    client: TestClient, make_run: MakeRun
) -> None:
    first = make_run([case("a", "failed")], branch="main")
    other = make_run([case("x")], project="Other")
    _response, page = get_page(client, f"/runs/{first}/compare")
    assert "No earlier run of main to compare with" in page.text
    assert "What changed" not in page.text
    get_page(client, f"/runs/{first}/compare?base={other}", status=422)
    get_page(client, f"/runs/{first}/compare?base=0", status=422)
    get_page(client, "/runs/987654/compare", status=404)
