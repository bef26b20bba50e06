"""The plugin end to end: inner pytest sessions, each in a subprocess so that pytest loads the
plugin through its ``pytest11`` entry point as users get it, send their run to a real Playdeck
server on a free port; the assertions read what the server stored.

Credentials too: a real API key against a server with authentication on, and a real login.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Protocol

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.kit.clock import utcnow
from playdeck.models import ApiKey, Attempt, Result, Run, Test, User

pytest_plugins = ["pytester"]


class LiveServer(Protocol):
    """``tests/conftest.py``'s LiveServer, as these tests use it."""

    url: str


INI = """
[pytest]
markers =
    slow: slow tests
"""

MIXED = """
import sys
import pytest

@pytest.fixture
def broken_setup():
    raise RuntimeError("database is down")

@pytest.mark.slow
def test_passes():
    print("to stdout")
    print("to stderr", file=sys.stderr)

def test_fails():
    assert 1 + 1 == 3

@pytest.mark.skip(reason="not on this platform")
def test_skipped():
    pass

@pytest.mark.xfail(reason="bug 12")
def test_expected_failure():
    assert False

@pytest.mark.xfail(reason="must fail", strict=True)
def test_strict_unexpected_pass():
    pass

def test_setup_error(broken_setup):
    pass

class TestMaths:
    @pytest.mark.parametrize("n", [1, 2])
    def test_positive(self, n):
        assert n > 0
"""

PASSING = """
def test_one():
    pass

def test_two():
    pass
"""

FLAKY = """
import pathlib
import pytest

def test_flaky():
    marker = pathlib.Path("flaky-marker")
    if not marker.exists():
        marker.write_text("1")
        raise AssertionError("first run fails")

@pytest.mark.slow
@pytest.mark.parametrize("n", range(4))
def test_steady(n):
    pass
"""


def run_inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=60)


def playdeck_lines(result: pytest.RunResult) -> list[str]:
    """What the plugin printed (pytest's "plugins: ..., playdeck-0.1.0" header line aside)."""
    return [line for line in [*result.outlines, *result.errlines] if "playdeck:" in line]


def outcomes(db: Session, run: Run) -> dict[str, Result]:
    query = select(Test.full_title, Result).join(Test, Test.id == Result.test_id)
    rows = db.execute(query.where(Result.run_id == run.id))
    return {title: result for title, result in rows}


def attempts(db: Session, result: Result) -> list[Attempt]:
    query = select(Attempt).where(Attempt.result_id == result.id).order_by(Attempt.retry)
    return list(db.scalars(query))


def test_a_session_becomes_one_run_with_every_outcome(
    pytester: pytest.Pytester, live_server: LiveServer, db: Session
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_mixed=MIXED)

    result = run_inner(
        pytester,
        f"--playdeck-url={live_server.url}/",
        "--playdeck-project=shop",
        "--playdeck-branch=feature/cart",
        "--playdeck-commit=0123abcd",
        "--playdeck-environment=staging",
        "--playdeck-run-name=nightly",
        "--playdeck-tag=smoke,api",
        "--playdeck-tag=linux",
    )

    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the failing tests', unchanged
    [run] = db.scalars(select(Run)).all()
    assert playdeck_lines(result) == [f"playdeck: results sent: {live_server.url}/runs/{run.id}"]
    assert (run.total, run.passed, run.failed, run.skipped, run.flaky) == (8, 3, 2, 1, 0)
    assert (run.error, run.xfailed, run.xpassed) == (1, 1, 0)
    assert run.status == "failed"
    assert (run.branch, run.commit_sha, run.environment, run.name) == (
        "feature/cart",
        "0123abcd",
        "staging",
        "nightly",
    )
    assert run.tags == ["smoke", "api", "linux"]
    assert run.meta["config"]["pytest"]["version"] == pytest.__version__

    results = outcomes(db, run)
    assert {title: r.outcome for title, r in results.items()} == {
        "test_passes": "passed",
        "test_fails": "failed",
        "test_skipped": "skipped",
        "test_expected_failure": "xfailed",
        "test_strict_unexpected_pass": "failed",
        "test_setup_error": "error",
        "TestMaths › test_positive[1]": "passed",
        "TestMaths › test_positive[2]": "passed",
    }
    assert results["test_passes"].tags == ["@slow"]
    assert results["test_expected_failure"].expected_status == "failed"
    assert results["test_skipped"].annotations == [
        {"type": "skip", "description": "not on this platform"}
    ]
    assert results["test_fails"].error_message == "assert (1 + 1) == 3"
    assert "test_mixed.py:" in (results["test_fails"].error_stack or "")
    assert results["test_setup_error"].error_message == (
        "[setup error] RuntimeError: database is down"
    )
    [passed] = attempts(db, results["test_passes"])
    assert (passed.stdout, passed.stderr) == ("to stdout\n", "to stderr\n")


GITLAB = {
    "GITLAB_CI": "true",
    "CI_COMMIT_BRANCH": "main",
    "CI_COMMIT_SHA": "f" * 40,
    "CI_COMMIT_TITLE": "Fix the cart",
    "CI_COMMIT_AUTHOR": "Ada Lovelace <ada@example.com>",
    "CI_PIPELINE_IID": "812",
    "CI_JOB_URL": "https://gitlab.example.com/shop/-/jobs/99",
}


def test_xdist_sends_one_run_with_reruns_as_attempts_and_the_ci_facts(
    pytester: pytest.Pytester,
    live_server: LiveServer,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_flaky=FLAKY)
    monkeypatch.setenv("PLAYDECK_URL", live_server.url)
    monkeypatch.setenv("PLAYDECK_PROJECT", "shop")
    for name, value in GITLAB.items():
        monkeypatch.setenv(name, value)

    result = run_inner(pytester, "-n", "2", "--reruns", "1")

    assert result.ret == pytest.ExitCode.OK
    [run] = db.scalars(select(Run)).all()  # one run, not one per worker
    assert len(playdeck_lines(result)) == 1
    assert (run.total, run.passed, run.flaky) == (5, 4, 1)
    assert run.meta["playwright"]["workers"] == 2
    results = outcomes(db, run)
    flaky = results["test_flaky"]
    assert (flaky.outcome, flaky.retry_count) == ("flaky", 1)
    assert [(a.retry, a.status) for a in attempts(db, flaky)] == [(0, "failed"), (1, "passed")]
    assert attempts(db, flaky)[0].error_message == "AssertionError: first run fails"
    # Markers travel from the workers, which have the items, to the controller, which has not.
    assert results["test_steady[3]"].tags == ["@slow"]

    assert (run.ci_provider, run.branch, run.commit_sha, run.commit_message, run.author) == (
        "gitlab",
        "main",
        "f" * 40,
        "Fix the cart",
        "Ada Lovelace",
    )
    assert (run.ci_build_number, run.ci_build_url) == (
        "812",
        "https://gitlab.example.com/shop/-/jobs/99",
    )


@pytest.mark.parametrize("url_kind", ["down", "not a URL"])
def test_an_unreachable_server_costs_one_warning_and_not_the_exit_status(
    pytester: pytest.Pytester, unused_port: int, url_kind: str
) -> None:
    pytester.makepyfile(test_passing=PASSING)
    url = f"http://127.0.0.1:{unused_port}" if url_kind == "down" else f"127.0.0.1:{unused_port}"

    result = run_inner(pytester, f"--playdeck-url={url}", "--playdeck-retries=0")

    assert result.ret == pytest.ExitCode.OK
    [line] = playdeck_lines(result)
    assert line.startswith("playdeck: could not send results: ")
    assert ("cannot reach" if url_kind == "down" else "must start with http") in line


def test_strict_mode_fails_a_passing_session_whose_run_is_lost(
    pytester: pytest.Pytester, unused_port: int
) -> None:
    pytester.makepyfile(test_passing=PASSING)

    result = run_inner(
        pytester,
        f"--playdeck-url=http://127.0.0.1:{unused_port}",
        "--playdeck-strict",
        "--playdeck-retries=1",
    )

    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    retried, lost = playdeck_lines(result)
    assert "attempt 1 of 2 failed (ConnectError" in retried
    assert lost.startswith("playdeck: could not send results: cannot reach")


def test_a_refusal_is_reported_with_the_servers_reason(
    pytester: pytest.Pytester,
    make_live_server: Callable[..., LiveServer],
    db: Session,
) -> None:
    server = make_live_server(auto_create_projects=False)
    pytester.makepyfile(test_passing=PASSING)

    result = run_inner(pytester, f"--playdeck-url={server.url}", "--playdeck-project=unknown")

    assert result.ret == pytest.ExitCode.OK
    assert playdeck_lines(result) == [
        "playdeck: could not send results: upload refused (HTTP 404): Project not found"
    ]
    assert db.scalars(select(Run)).all() == []


def test_without_a_server_url_the_plugin_stays_idle(
    pytester: pytest.Pytester,
    live_server: LiveServer,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Everything but the URL: the plugin must not guess one.
    monkeypatch.setenv("PLAYDECK_PROJECT", "shop")
    monkeypatch.setenv("PLAYDECK_API_KEY", "pd_" + "0" * 64)
    pytester.makepyfile(
        test_idle="""
        def test_loaded_but_idle(pytestconfig):
            manager = pytestconfig.pluginmanager
            assert manager.has_plugin("playdeck")
            assert manager.get_plugin("playdeck-reporter") is None
            assert manager.get_plugin("playdeck-tagger") is None
        """
    )

    result = run_inner(pytester, "--playdeck-project=shop")

    assert result.ret == pytest.ExitCode.OK
    assert playdeck_lines(result) == []
    assert db.scalars(select(Run)).all() == []


KEY_SERVER_SECRET = "plugin-key-secret-0123456789abcdefghijklmn"


def test_an_api_key_authenticates_the_run_and_is_never_printed(
    pytester: pytest.Pytester,
    make_live_server: Callable[..., LiveServer],
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = make_live_server(require_auth=True, secret_key=KEY_SERVER_SECRET)
    key = make_api_key(make_account("ci"), scopes=["runs:write"])
    pytester.makepyfile(test_passing=PASSING)

    by_option = run_inner(
        pytester,
        f"--playdeck-url={server.url}",
        "--playdeck-project=shop",
        f"--playdeck-api-key={key}",
        "-v",
    )
    monkeypatch.setenv("PLAYDECK_API_KEY", key)
    by_environment = run_inner(pytester, f"--playdeck-url={server.url}", "--playdeck-project=shop")

    runs = db.scalars(select(Run).order_by(Run.id)).all()
    assert [r.total for r in runs] == [2, 2]
    for result, run in zip((by_option, by_environment), runs, strict=True):
        assert result.ret == pytest.ExitCode.OK
        assert playdeck_lines(result) == [f"playdeck: results sent: {server.url}/runs/{run.id}"]
        assert key not in result.stdout.str() + result.stderr.str()
    assert set(outcomes(db, runs[0])) == {"test_one", "test_two"}
    assert db.scalars(select(ApiKey.last_used_at)).one() is not None


def test_a_revoked_key_costs_one_warning_and_not_the_exit_status(
    pytester: pytest.Pytester,
    make_live_server: Callable[..., LiveServer],
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
    db: Session,
) -> None:
    server = make_live_server(require_auth=True, secret_key=KEY_SERVER_SECRET)
    key = make_api_key(make_account("ci"))
    row = db.scalars(select(ApiKey)).one()
    row.revoked_at = utcnow()
    db.commit()
    pytester.makepyfile(test_passing=PASSING)

    result = run_inner(pytester, f"--playdeck-url={server.url}", f"--playdeck-api-key={key}")

    assert result.ret == pytest.ExitCode.OK
    assert playdeck_lines(result) == [
        "playdeck: could not send results: upload refused (HTTP 401): Invalid or expired API key"
    ]
    assert key not in result.stdout.str() + result.stderr.str()
    assert db.scalars(select(Run)).all() == []


ADMIN_PASSWORD = "a long enough admin password"


def test_a_server_that_requires_authentication(
    pytester: pytest.Pytester,
    make_live_server: Callable[..., LiveServer],
    db: Session,
) -> None:
    server = make_live_server(
        require_auth=True,
        secret_key="s" * 20 + secrets.token_hex(16),
        admin_username="admin",
        admin_email="admin@example.com",
        admin_password=ADMIN_PASSWORD,
    )
    pytester.makepyfile(test_passing=PASSING)

    def send(password: str) -> pytest.RunResult:
        return run_inner(
            pytester,
            f"--playdeck-url={server.url}",
            "--playdeck-project=shop",
            "--playdeck-username=admin",
            f"--playdeck-password={password}",
        )

    wrong, right = send("not the admin password"), send(ADMIN_PASSWORD)

    assert wrong.ret == right.ret == pytest.ExitCode.OK
    [refused] = playdeck_lines(wrong)
    assert refused.startswith("playdeck: could not send results: login refused (HTTP 401)")
    assert "not the admin password" not in wrong.stdout.str() + wrong.stderr.str()
    [run] = db.scalars(select(Run)).all()
    assert playdeck_lines(right) == [f"playdeck: results sent: {server.url}/runs/{run.id}"]
    assert ADMIN_PASSWORD not in right.stdout.str() + right.stderr.str()
