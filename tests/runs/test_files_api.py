from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.ingest.records import AttachmentRecord
from playdeck.models import Attachment, Report
from playdeck.runs.files.delivery import content_disposition, media_type
from playdeck.storage.filesystem import FilesystemBlobStore

from .conftest import MakeRun, case, html_report


def _attachment(client: TestClient, make_run: MakeRun, record: AttachmentRecord) -> str:
    run_id = make_run([case("a", "failed", attachments=[record])])
    [item] = client.get(f"/api/test-runs/{run_id}/tests").json()["items"]
    url: str = item["attempts"][-1]["attachments"][0]["url"]
    return url


def test_an_image_is_served_inline_with_its_type_and_hash(
    client: TestClient, make_run: MakeRun
) -> None:
    body = b"\x89PNG\r\n\x1a\nnot really"
    url = _attachment(
        client,
        make_run,
        AttachmentRecord(name="screenshot.png", content_type="image/png", body=body),
    )
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(body))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == (
        "inline; filename=\"screenshot.png\"; filename*=UTF-8''screenshot.png"
    )
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["etag"].strip('"') and len(response.headers["etag"]) == 66
    # The page's own origin never applies to stored files.
    assert response.headers["content-security-policy"] == "sandbox"


def test_a_matching_etag_answers_not_modified(client: TestClient, make_run: MakeRun) -> None:
    url = _attachment(
        client, make_run, AttachmentRecord(name="log.txt", content_type="text/plain", body=b"hi")
    )
    etag = client.get(url).headers["etag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_html_attachments_run_only_sandboxed(client: TestClient, make_run: MakeRun) -> None:
    evil = b"<script>fetch('/api/test-runs').then(r => r.text()).then(alert)</script>"
    url = _attachment(
        client, make_run, AttachmentRecord(name="page.html", content_type="text/html", body=evil)
    )
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert csp.startswith("sandbox allow-scripts;")
    assert "allow-same-origin" not in csp
    assert "form-action 'none'" in csp
    assert f"connect-src http://testserver{url};" in csp
    # A browser opening it as a page gets the framed viewer instead.
    opened = client.get(url, headers={"Sec-Fetch-Dest": "document"}, follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == url.replace("/api/attachments/", "/attachments/")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_active_or_unknown_types_are_downloads(client: TestClient, make_run: MakeRun) -> None:
    for name, content_type in [
        ("image.svg", "image/svg+xml"),
        ("trace.zip", "application/zip"),
        ("page.xhtml", "application/xhtml+xml"),
        ("weird", "text/html\r\nX-Injected: yes"),
    ]:
        url = _attachment(
            client,
            make_run,
            AttachmentRecord(name=name, content_type=content_type, body=name.encode()),
        )
        response = client.get(url)
        assert response.status_code == 200, name
        assert response.headers["content-disposition"].startswith("attachment;"), name
        assert response.headers["content-security-policy"] == "sandbox", name
        assert "x-injected" not in response.headers


def test_stored_content_types_are_reduced_to_safe_values() -> None:
    assert media_type("text/plain; charset=UTF-8") == ("text/plain", "utf-8")
    assert media_type("Image/PNG") == ("image/png", None)
    assert media_type("text/html\r\nSet-Cookie: x=1") == ("application/octet-stream", None)
    assert media_type("") == ("application/octet-stream", None)
    assert media_type('text/plain; charset="x\r\n"') == ("text/plain", None)


def test_filenames_follow_rfc_6266() -> None:
    assert content_disposition("inline", "résumé 1.png") == (
        "inline; filename=\"r_sum_ 1.png\"; filename*=UTF-8''r%C3%A9sum%C3%A9%201.png"
    )
    header = content_disposition("attachment", 'a"b;\r\nc%.txt')
    assert header == "attachment; filename=\"a_b_c_.txt\"; filename*=UTF-8''a%22b%3Bc%25.txt"
    assert content_disposition("attachment", "C:\\Users\\ci\\log.txt").endswith("''log.txt")
    assert content_disposition("attachment", "dir/sub/file.txt").endswith("''file.txt")


def test_attachment_missing_from_the_store_is_404(
    client: TestClient, make_run: MakeRun, db: Session, store: FilesystemBlobStore
) -> None:
    url = _attachment(
        client, make_run, AttachmentRecord(name="x.txt", content_type="text/plain", body=b"gone")
    )
    # Lost outside Playdeck (a disk replaced, a file removed by hand): deleted regardless.
    assert store.reclaim(db.scalars(select(Attachment.sha256)).one(), removable=lambda _: True)
    response = client.get(url)
    assert response.status_code == 404
    assert response.json()["code"] == "file_missing"


def test_unknown_attachment_is_404(client: TestClient) -> None:
    assert client.get("/api/attachments/987654").status_code == 404
    assert client.get("/api/attachments/not-a-number").status_code == 422


def test_report_redirects_to_its_entry_and_serves_files_by_path(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    make_run(
        [case("a")],
        reports=[
            html_report(
                ("index.html", b"<html><script src='app.js'></script></html>"),
                ("app.js", b"console.log('hi')"),
                ("data/shot one.png", b"png bytes"),
                entry="index.html",
            )
        ],
    )
    report_id = db.scalars(select(Report.id)).one()
    redirect = client.get(f"/api/reports/{report_id}", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == f"/api/reports/{report_id}/index.html"
    trailing = client.get(f"/api/reports/{report_id}/", follow_redirects=False)
    assert trailing.headers["location"] == f"/api/reports/{report_id}/index.html"

    page = client.get(f"/api/reports/{report_id}/index.html")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert csp.startswith("sandbox allow-scripts;")
    assert f"connect-src http://testserver/api/reports/{report_id}/;" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert b"<script" in page.content

    script = client.get(f"/api/reports/{report_id}/app.js")
    assert script.status_code == 200
    assert script.headers["content-disposition"].startswith("inline;")
    image = client.get(f"/api/reports/{report_id}/data/shot%20one.png")
    assert image.content == b"png bytes"


def test_report_paths_are_looked_up_never_joined(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    make_run([case("a")], reports=[html_report(("index.html", b"<p>report</p>"))])
    report_id = db.scalars(select(Report.id)).one()
    for path in (
        "missing.html",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "data/%2E%2E/index.html",  # encoded, so the client does not normalise it
        "INDEX.HTML",
    ):
        response = client.get(f"/api/reports/{report_id}/{path}")
        assert response.status_code == 404, path
    assert client.get("/api/reports/999999/index.html").status_code == 404
    assert client.get("/api/reports/999999", follow_redirects=False).status_code == 404


def test_hidden_files_answer_404(
    outsider: TestClient, client: TestClient, make_run: MakeRun, db: Session
) -> None:
    url = _attachment(
        client, make_run, AttachmentRecord(name="a.txt", content_type="text/plain", body=b"x")
    )
    make_run([case("a")], reports=[html_report(("index.html", b"<p>report</p>"))])
    report_id = db.scalars(select(Report.id)).one()
    for path in (url, f"/api/reports/{report_id}", f"/api/reports/{report_id}/index.html"):
        response = outsider.get(path, follow_redirects=False)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
