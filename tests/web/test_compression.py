"""gzip for pages and API JSON; stored files leave as stored."""

from __future__ import annotations

from fastapi.testclient import TestClient

from playdeck.ingest.records import AttachmentRecord

from .conftest import HTML, MakeRun, case

GZIP = {"accept-encoding": "gzip"}


def test_pages_and_api_json_are_gzipped_for_clients_that_accept_it(
    client: TestClient, make_run: MakeRun
) -> None:
    run_id = make_run([case(f"test {i}", "failed") for i in range(30)])
    page = client.get(f"/runs/{run_id}", headers={**HTML, **GZIP})
    assert page.status_code == 200
    assert page.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in page.headers["vary"].lower()
    assert "test 29" in page.text  # httpx decoded it
    assert int(page.headers["content-length"]) < len(page.content) / 3
    api = client.get(f"/api/test-runs/{run_id}/tests", headers=GZIP)
    assert api.headers["content-encoding"] == "gzip"
    assert api.json()["items"]
    plain = client.get(f"/runs/{run_id}", headers={**HTML, "accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers


def test_stored_files_are_sent_as_stored(client: TestClient, make_run: MakeRun) -> None:
    text = b"log line\n" * 2000
    note = AttachmentRecord(name="log", content_type="text/plain", body=text)
    run_id = make_run([case("t", "failed", attachments=[note])])
    files = client.get(f"/api/test-runs/{run_id}/tests").json()["items"][0]["attempts"][-1]
    url = files["attachments"][0]["url"]
    answer = client.get(url, headers=GZIP)
    assert answer.status_code == 200
    assert "content-encoding" not in answer.headers
    assert answer.headers["content-length"] == str(len(text))
    assert answer.content == text
