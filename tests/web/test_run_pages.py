"""``/runs/{id}``: header, failures first with everything to debug them, filters, pagination."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.ingest.records import ReportFileRecord, ReportRecord
from playdeck.models import Attachment, Test
from playdeck.web.runs import RESULTS_PER_PAGE
from tests.ingest.live_support import upload_with_reports

from .conftest import MakeRun, case, get_page, parse, upload_zip


def _results(html: str) -> list[str]:
    """Each result's HTML, in page order."""
    return html.split('<li class="result result--')[1:]


def test_run_page_shows_failures_first_with_error_attempts_screenshots_and_downloads(
    client: TestClient, db: Session
) -> None:
    run_id = upload_zip(client, branch="main", commit="abc1234def", buildUrl="https://ci/1")
    response, page = get_page(client, f"/runs/{run_id}")
    results = _results(response.text)
    outcomes = [r.split('"', 1)[0] for r in results]
    # The same failure on chromium and chromium-mobile is one group.
    assert outcomes[0] == "failed"
    assert "same error on 2 projects" in results[0]
    assert outcomes == sorted(
        outcomes, key=["failed", "timedout", "interrupted", "flaky", "passed", "skipped"].index
    )

    failed = parse(results[0])
    assert "failing expectation" in failed.text
    assert "Retry #1" in failed.text and "Attempt" in failed.text
    assert failed.all("details", open="")  # failures start expanded
    screenshots = [img.attrs["src"] for img in failed.all("img")]
    assert screenshots and all(src.startswith("/api/attachments/") for src in screenshots)
    downloads = {a.attrs["href"] for a in failed.all("a") if "download" in a.attrs}
    assert {a.attrs["download"] for a in failed.all("a") if "download" in a.attrs} >= {
        "trace.zip",
        "screenshot.png",
        "error-context.md",
    }
    traces = {
        f"/api/attachments/{a.id}"
        for a in db.scalars(select(Attachment).where(Attachment.name == "trace"))
    }
    assert downloads & traces
    history = [link for link in failed.links() if link.startswith("/tests/")]
    assert history
    assert "expect(" in failed.text  # the error message

    # The screenshot the page shows is the real image.
    image = client.get(screenshots[0])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"

    passed = next(r for r in results if r.startswith("passed"))
    assert "<details open" not in passed.split("</summary>")[0]
    assert "main" in page.text and "abc1234d" in page.text
    assert page.all("a", href="https://ci/1")


def test_run_header_shows_counts_metadata_reports_and_only_http_links(
    client: TestClient, make_run: MakeRun
) -> None:
    run_id = make_run(
        [case("a"), case("b", "failed"), case("c", "flaky"), case("d", "skipped")],
        name="nightly",
        author="Ada",
        environment="staging",
        ci_provider="github",
        ci_build_number="42",
        ci_build_url="javascript:alert(1)",
        tags=["smoke"],
        metadata={"scm": {"remoteUrl": "https://git.example/shop"}, "note": "javascript:x"},
        reports=[
            ReportRecord(
                type="playwright-html",
                label="HTML report",
                entry="index.html",
                files=[ReportFileRecord(path="index.html", body=b"<html></html>")],
            )
        ],
    )
    response, page = get_page(client, f"/runs/{run_id}")
    assert "javascript:" not in " ".join(page.links())
    assert "github #42" in page.text and "javascript:alert(1)" in page.text  # shown, not linked
    assert page.all("a", href="https://git.example/shop")
    assert "scm.remoteUrl" in page.text
    report_links = [link for link in page.links() if link.startswith("/api/reports/")]
    assert report_links == [report_links[0]] and report_links[0].endswith("/index.html")
    assert client.get(report_links[0]).status_code == 200
    for text in ("nightly", "Ada", "staging", "smoke", "66.7%", "4 tests"):
        assert text in page.text
    chips = {a.attrs["href"]: a for a in page.all("a") if "chip" in a.attrs.get("class", "")}
    assert f"/runs/{run_id}?outcome=flaky" in chips
    assert 'class="chart counts-bar"' in response.text


def test_run_tests_filter_by_outcome_and_text(client: TestClient, make_run: MakeRun) -> None:
    run_id = make_run(
        [
            case("checkout works"),
            case("login fails", "failed"),
            case("search is flaky", "flaky"),
            case("cart", "skipped", file="tests/cart.spec.ts"),
        ]
    )

    def titles(query: str) -> list[str]:
        response, _page = get_page(client, f"/runs/{run_id}?{query}")
        return [r.split('result__title">')[1].split("<")[0] for r in _results(response.text)]

    assert titles("outcome=failed,timedout,interrupted") == ["login fails"]
    assert titles("outcome=flaky") == ["search is flaky"]
    assert titles("q=CART") == ["cart"]  # the file matches too
    assert titles("q=fails&outcome=") == ["login fails"]
    assert titles("outcome=passed&q=login") == []
    _response, page = get_page(client, f"/runs/{run_id}?q=nothing")
    assert "No test matches these filters." in page.text
    chip = [a for a in page.all("a") if a.attrs.get("aria-current") == "true"]
    assert not chip
    _response, page = get_page(client, f"/runs/{run_id}?outcome=flaky")
    current = [a.attrs["href"] for a in page.all("a") if a.attrs.get("aria-current") == "true"]
    assert current == [f"/runs/{run_id}?outcome=flaky"]


def test_run_page_refuses_an_unknown_outcome(client: TestClient, make_run: MakeRun) -> None:
    run_id = make_run([case("a")])
    _response, page = get_page(client, f"/runs/{run_id}?outcome=flaky,bogus", status=422)
    assert "Unknown outcome: bogus" in page.text


def test_run_tests_are_paginated(client: TestClient, make_run: MakeRun) -> None:
    tests = [case(f"test {i:03d}") for i in range(RESULTS_PER_PAGE + 5)]
    tests.append(case("broken", "failed"))
    run_id = make_run(tests)
    response, page = get_page(client, f"/runs/{run_id}")
    first = _results(response.text)
    assert len(first) == RESULTS_PER_PAGE
    assert first[0].startswith("failed")
    next_url = next(link for link in page.links() if "cursor=" in link)
    response, page = get_page(client, next_url)
    assert len(_results(response.text)) == 6
    assert "First page" in page.text


def test_run_page_links_each_result_to_its_test_history(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    run_id = make_run([case("only", "failed")])
    test_id = db.scalar(select(Test.id))
    _response, page = get_page(client, f"/runs/{run_id}")
    assert f"/tests/{test_id}" in page.links()
    assert "/projects/demo" in page.links()


def test_run_page_lists_every_shards_report_by_its_label(client: TestClient) -> None:
    for spec in ("1/2", "2/2"):
        report = [("html", f"<p>shard {spec}</p>".encode())]
        response = upload_with_reports(client, {spec: "passed"}, report, runKey="k", shard=spec)
        assert response.status_code == 201, response.text
    _, page = get_page(client, f"/runs/{response.json()['testRunId']}")
    assert "html report (shard 2/2)" in page.text  # the first: "html", its type
    links = [link for link in page.links() if link.startswith("/api/reports/")]
    assert len(links) == 2
    for link, spec in zip(links, ("1/2", "2/2"), strict=True):
        assert client.get(link).text == f"<p>shard {spec}</p>"
