"""The run page built for triage (server-rendered): groups of one failure on several browser
projects, coloured errors and code frames, step trees, inline text files, filters, permalinks."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from playdeck.ingest.records import AttachmentRecord

from .conftest import MakeRun, case, get_page, upload_zip


def _results(html: str) -> list[str]:
    return html.split('<li class="result result--')[1:]


def test_one_failure_on_two_projects_is_one_group_with_each_result_reachable(
    client: TestClient, make_run: MakeRun
) -> None:
    run_id = make_run(
        [
            case("pays", "failed", browser="chromium", error="Boom: card declined"),
            case("pays", "failed", browser="webkit", error="Boom: card declined"),
            case("refunds", "failed", browser="chromium", error="Other error"),
            case("lists", browser="chromium"),
        ]
    )
    response, page = get_page(client, f"/runs/{run_id}")
    results = _results(response.text)
    assert len(results) == 3  # two failures (one grouped) and the pass
    assert "same error on 2 projects" in results[0]
    assert results[0].count('class="instance"') == 2
    assert "same error" not in results[1]
    # Every result keeps its own anchor and permalink, grouped or not.
    permalinks = [a.attrs["href"] for a in page.all("a") if "permalink" in a.attrs.get("class", "")]
    assert len(permalinks) == 4
    for link in permalinks:
        anchor = link.split("#", 1)[1]
        assert f'id="{anchor}"' in response.text


def test_the_playwright_error_keeps_its_colours_and_code_frame_escaped(
    client: TestClient,
) -> None:
    run_id = upload_zip(client)
    response, _ = get_page(client, f"/runs/{run_id}")
    first = _results(response.text)[0]
    # Expected is green, Received red: spans, not raw escape codes, not stripped.
    assert '<span class="ansi-fg-2">&#34;Something else&#34;</span>' in first
    assert '<span class="ansi-fg-1">&#34;All good&#34;</span>' in first
    assert "\x1b" not in response.text
    # The code frame, its marker line included, with the page's own escaping of the source.
    assert 'class="snippet ansi"' in first
    # The frame's ">" marker is red and bold, like in the terminal.
    assert '<span class="ansi-fg-1 ansi-bold">&gt;</span>' in first
    # <p class="msg"> from the call log is text, never markup.
    assert "&lt;p class=&#34;msg&#34;&gt;All good&lt;/p&gt;" in first
    assert '<p class="msg">' not in response.text


def test_text_attachments_are_shown_inline_escaped_and_downloads_have_extensions(
    client: TestClient, make_run: MakeRun
) -> None:
    note = AttachmentRecord(
        name="notes", content_type="text/plain", body=b"<script>alert(1)</script> hello"
    )
    trace = AttachmentRecord(name="trace", content_type="application/zip", body=b"PK\x03\x04")
    run_id = make_run([case("t", "failed", attachments=[note, trace])])
    response, page = get_page(client, f"/runs/{run_id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; hello" in response.text
    assert "<script>alert(1)" not in response.text
    downloads = {
        a.attrs["download"]: a.attrs["href"] for a in page.all("a") if "download" in a.attrs
    }
    assert set(downloads) == {"notes.txt", "trace.zip"}
    answer = client.get(downloads["trace.zip"])
    assert 'filename="trace.zip"' in answer.headers["content-disposition"]


def test_steps_are_a_tree_with_the_failing_step_marked(
    client: TestClient, make_run: MakeRun
) -> None:
    test = case("checkout", "failed")
    test.attempts[-1].steps = [
        {"title": "open cart", "duration": 120, "depth": 0},
        {"title": "pay", "duration": 900, "depth": 0, "error": "declined"},
        {"title": "fill card", "duration": 300, "depth": 1},
        {"title": "click pay", "duration": 600, "depth": 1, "error": "declined"},
        {"title": "close", "duration": 5, "depth": 0},
    ]
    run_id = make_run([test])
    response, page = get_page(client, f"/runs/{run_id}")
    tree = response.text.split('class="step-tree"', 1)[1].split("</details>", 1)[0]
    # "fill card" and "click pay" are nested inside "pay".
    pay = tree.split("pay</span>", 1)[1]
    assert pay.index("<ol") < pay.index("fill card") < pay.index("click pay")
    here = [li for li in page.all("li") if "step--here" in li.attrs.get("class", "")]
    assert len(here) == 1
    assert "click pay" in response.text.split("step--here", 1)[1].split("</li>", 1)[0]
    assert "failed here" in response.text
    assert "600 ms" in tree


def test_filters_by_browser_tag_file_and_one_result(client: TestClient, make_run: MakeRun) -> None:
    run_id = make_run(
        [
            case("a", browser="chromium", file="a.spec.ts", tags=["@smoke"]),
            case("b", "failed", browser="webkit", file="b.spec.ts", tags=["@slow"]),
            case("c", browser="webkit", file="a.spec.ts"),
        ]
    )

    def titles(query: str) -> list[str]:
        response, _ = get_page(client, f"/runs/{run_id}?{query}")
        return re.findall(r'<span class="result__title">([^<]*)</span>', response.text)

    assert titles("browser=webkit") == ["b", "c"]
    assert titles("tag=%40smoke") == ["a"]
    assert titles("file=a.spec.ts") == ["a", "c"]
    assert titles("browser=webkit&file=a.spec.ts") == ["c"]
    response, page = get_page(client, f"/runs/{run_id}")
    options = {o.attrs.get("value") for o in page.all("option")}
    assert {"chromium", "webkit", "@smoke", "@slow", "a.spec.ts", "b.spec.ts"} <= options
    ids = [li.attrs["id"] for li in page.all("li") if li.attrs.get("id", "").startswith("result-")]
    one = ids[1].removeprefix("result-")
    response, page = get_page(client, f"/runs/{run_id}?result={one}")
    assert [
        li.attrs["id"] for li in page.all("li") if li.attrs.get("id", "").startswith("result-")
    ] == [ids[1]]
    assert "Showing one result" in response.text
    assert (
        client.get(f"/runs/{run_id}?result=x", headers={"accept": "text/html"}).status_code == 404
    )


def test_group_by_file_puts_each_file_under_its_heading(
    client: TestClient, make_run: MakeRun
) -> None:
    run_id = make_run(
        [
            case("a1", "failed", file="a.spec.ts"),
            case("b1", "failed", file="b.spec.ts"),
            case("a2", file="a.spec.ts"),
        ]
    )
    response, _ = get_page(client, f"/runs/{run_id}?group=file")
    sections = response.text.split('class="file-heading"')[1:]
    assert [s.split("<code>", 1)[1].split("</code>", 1)[0] for s in sections] == [
        "a.spec.ts",
        "b.spec.ts",
    ]
    assert "a1" in sections[0] and "a2" in sections[0] and "b1" in sections[1]
