"""``playdeck upload`` names the CI build: ``--run-key``/``--shard``, or the CI system's own
variables, so that the jobs of one build make one run."""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import CliRunner, Result

from playdeck.cli.main import app
from playdeck.kit.ci import CI_SYSTEMS
from tests.fixtures.servers import LiveServer
from tests.ingest.live_support import FAIL, PASS, junit

# Whatever CI runs this suite, the command sees only the variables a test gives it.
NO_CI: dict[str, str | None] = {
    name: None
    for system in CI_SYSTEMS
    for name in (*system.detect, *system.build, system.shard_index, system.shard_total)
    if name is not None
}
NO_CI.update(PLAYDECK_RUN_KEY=None, PLAYDECK_SHARD=None, PLAYDECK_API_KEY=None)


def _upload(server: LiveServer, report: Path, *args: str, env: dict[str, str]) -> Result:
    return CliRunner().invoke(
        app,
        ["upload", str(report), "--server", server.url, "--project", "cli-shards", *args],
        env={**NO_CI, **env},
    )


def _run(server: LiveServer, result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.output
    url = result.stdout.strip().splitlines()[-1]
    run_id = url.rsplit("/", 1)[1]
    answer: dict[str, object] = httpx.get(f"{server.url}/api/test-runs/{run_id}").json()
    return answer


def test_jobs_of_one_gitlab_pipeline_make_one_run(live_server: LiveServer, tmp_path: Path) -> None:
    one, two = tmp_path / "one.xml", tmp_path / "two.xml"
    one.write_bytes(junit({"a": PASS}))
    two.write_bytes(junit({"b": FAIL}))
    pipeline = {
        "GITLAB_CI": "true",
        "CI_PROJECT_ID": "7",
        "CI_PIPELINE_ID": "70",
        "CI_NODE_TOTAL": "2",
    }

    first = _run(live_server, _upload(live_server, one, env={**pipeline, "CI_NODE_INDEX": "1"}))
    assert first["status"] == "running"
    second = _run(live_server, _upload(live_server, two, env={**pipeline, "CI_NODE_INDEX": "2"}))
    assert second["id"] == first["id"]
    assert (second["status"], second["run_key"]) == ("failed", "gitlab:7/70")
    assert second["shards"] == {"total": 2, "arrived": [1, 2], "missing": []}


def test_options_name_the_build_outside_ci(live_server: LiveServer, tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_bytes(junit({"a": PASS}))
    run = _run(
        live_server,
        _upload(live_server, report, "--run-key", "nightly-5", "--shard", "1/2", env={}),
    )
    assert (run["run_key"], run["status"]) == ("nightly-5", "running")
    alone = _run(live_server, _upload(live_server, report, env={}))
    assert alone["run_key"] is None and alone["parts"] == []
