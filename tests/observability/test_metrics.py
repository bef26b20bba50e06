"""``/metrics``: scraped over HTTP and parsed as Prometheus does; who may read it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from playdeck.settings import Settings

DATA = Path(__file__).parents[1] / "data"
SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
TOKEN = "metrics-token-0123456789"
PASSWORD = "violet tangerine hovercraft"


def scrape(
    client: TestClient | httpx.Client, **headers: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_by_route_template(client: TestClient) -> None:
    before = scrape(client)
    run = client.post(
        "/api/test-runs/submit?projectName=metrics",
        content=(DATA / "playwright" / "report.json").read_bytes(),
        headers={"Content-Type": "application/json"},
    ).json()
    for _ in range(2):
        assert client.get(f"/api/test-runs/{run['testRunId']}").status_code == 200
    assert client.get("/api/test-runs/999999").status_code == 404
    after = scrape(client)

    route = {"method": "GET", "route": "/api/test-runs/{run_id}"}
    counted = "playdeck_http_requests_total"
    assert (
        value(after, counted, **route, status="200") - value(before, counted, **route, status="200")
        == 2
    )
    assert (
        value(after, counted, **route, status="404") - value(before, counted, **route, status="404")
        == 1
    )
    histogram = "playdeck_http_request_duration_seconds_count"
    assert value(after, histogram, **route) - value(before, histogram, **route) == 3
    # No label carries a concrete id: the label set stays bounded.
    assert not any("999999" in str(labels) for _, labels in after)


def test_unmatched_paths_share_one_label(client: TestClient) -> None:
    before = scrape(client)
    for path in ("/no/such/page", "/another/missing/one"):
        client.get(path)
    after = scrape(client)
    labels = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert (
        value(after, "playdeck_http_requests_total", **labels)
        - value(before, "playdeck_http_requests_total", **labels)
        == 2
    )


def test_committed_ingests_and_their_tests_are_counted(client: TestClient) -> None:
    before = scrape(client)
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "metrics"},
        files={"file": ("junit.xml", (DATA / "playwright" / "junit.xml").read_bytes())},
    )
    assert response.status_code == 201, response.text
    tests = len(client.get(f"/api/test-runs/{response.json()['testRunId']}/tests").json()["items"])
    refused = client.post(
        "/api/test-runs/submit?projectName=metrics",
        content=b'{"not": "a report"}',
        headers={"Content-Type": "application/json"},
    )
    assert refused.status_code == 422
    after = scrape(client)

    assert value(after, "playdeck_ingests_total") - value(before, "playdeck_ingests_total") == 1
    assert tests > 0
    assert (
        value(after, "playdeck_ingested_tests_total")
        - value(before, "playdeck_ingested_tests_total")
        == tests
    )
    assert (
        value(after, "playdeck_ingest_duration_seconds_count")
        - value(before, "playdeck_ingest_duration_seconds_count")
        == 1
    )


def test_database_pool_is_reported(client: TestClient) -> None:
    client.get("/api/projects")
    samples = scrape(client)
    assert value(samples, "playdeck_db_connections_open") >= 1
    assert ("playdeck_db_connections_in_use", ()) in samples
    assert value(samples, "playdeck_build_info", version=__import__("playdeck").__version__) == 1


def test_login_failures_and_rate_limit_refusals_are_counted(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> None:
    client = make_client(
        make_settings(
            require_auth=True,
            secret_key=SECRET,
            metrics_token=TOKEN,
            login_rate_limit="2/minute",
        )
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = scrape(client, **auth)
    answers = [
        client.post(
            "/api/auth/login", json={"username": "nobody", "password": PASSWORD}
        ).status_code
        for _ in range(3)
    ]
    assert answers == [401, 401, 429]
    after = scrape(client, **auth)
    failures = "playdeck_login_failures_total"
    assert (
        value(after, failures, reason="unknown_user")
        - value(before, failures, reason="unknown_user")
        == 2
    )
    refusals = "playdeck_rate_limit_refusals_total"
    assert value(after, refusals, rule="login-ip") - value(before, refusals, rule="login-ip") == 1


@pytest.mark.parametrize(
    ("overrides", "headers", "status"),
    [
        ({"require_auth": True, "secret_key": SECRET}, {}, 404),
        ({"require_auth": True, "secret_key": SECRET, "metrics_token": TOKEN}, {}, 401),
        (
            {"require_auth": True, "secret_key": SECRET, "metrics_token": TOKEN},
            {"Authorization": "Bearer wrong-token-0123456789"},
            401,
        ),
        ({"metrics_token": TOKEN}, {"Authorization": f"Basic {TOKEN}"}, 401),
        ({"metrics_enabled": False}, {}, 404),
        (
            {"metrics_enabled": False, "metrics_token": TOKEN},
            {"Authorization": f"Bearer {TOKEN}"},
            404,
        ),
    ],
)
def test_metrics_are_refused_unless_allowed(
    make_client: Callable[[Settings], TestClient],
    make_settings: Callable[..., Settings],
    overrides: dict[str, object],
    headers: dict[str, str],
    status: int,
) -> None:
    client = make_client(make_settings(**overrides))
    response = client.get("/metrics", headers=headers)
    assert response.status_code == status
    assert "playdeck_http_requests_total" not in response.text


def test_metrics_token_opens_metrics_when_auth_is_on(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> None:
    client = make_client(make_settings(require_auth=True, secret_key=SECRET, metrics_token=TOKEN))
    assert (
        value(
            scrape(client, Authorization=f"Bearer {TOKEN}"),
            "playdeck_build_info",
            version=__import__("playdeck").__version__,
        )
        == 1
    )


def test_a_short_metrics_token_is_refused(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValueError, match="at least 16 characters"):
        make_settings(metrics_token="short")
