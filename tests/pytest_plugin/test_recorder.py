"""What the recorder makes of real pytest sessions, read back by the server's own parser.

Each test runs a small pytest session in this process with a ``Recorder`` (and the marker tagger)
registered, builds the Playwright-shaped report, and parses it with ``parse_playwright_json``:
what the assertions see is what the server would store.
"""

from __future__ import annotations

import json

import pytest

from playdeck.ingest.parsers.playwright_json import parse_playwright_json
from playdeck.ingest.records import RunRecord, TestRecord
from playdeck.pytest_plugin.plugin import MarkerTagger
from playdeck.pytest_plugin.recorder import MAX_OUTPUT_CHARS, Recorder, split_nodeid

pytest_plugins = ["pytester"]

INI = """
[pytest]
markers =
    slow: slow tests
    api: API tests
"""

MIXED = """
import sys
import pytest

@pytest.fixture
def broken_setup():
    raise RuntimeError("database is down")

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("cleanup failed")

@pytest.mark.slow
@pytest.mark.api
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
    assert False, "still broken"

@pytest.mark.xfail(reason="maybe fixed")
def test_unexpected_pass():
    pass

@pytest.mark.xfail(reason="must fail", strict=True)
def test_strict_unexpected_pass():
    pass

@pytest.mark.xfail(reason="hangs", run=False)
def test_not_run():
    pass

def test_setup_error(broken_setup):
    pass

def test_teardown_error(broken_teardown):
    pass

def test_fails_and_teardown_error(broken_teardown):
    assert False, "body failed"

class TestMaths:
    @pytest.mark.parametrize("n", [1, 2])
    def test_positive(self, n):
        assert n > 0

    class TestNested:
        def test_inner(self):
            pass
"""


def record(pytester: pytest.Pytester, *args: str) -> tuple[RunRecord, dict[str, TestRecord]]:
    recorder = Recorder()
    pytester.inline_run("-p", "no:cacheprovider", *args, plugins=[recorder, MarkerTagger()])
    report = recorder.report(root_dir=str(pytester.path), metadata={"pytest": {"version": "x"}})
    run = parse_playwright_json(json.loads(json.dumps(report)))
    return run, {" › ".join(t.title_path): t for t in run.tests}


@pytest.fixture
def mixed(pytester: pytest.Pytester) -> tuple[RunRecord, dict[str, TestRecord]]:
    pytester.makeini(INI)
    pytester.makepyfile(test_mixed=MIXED)
    return record(pytester)


def test_outcomes_read_as_the_server_stores_them(
    mixed: tuple[RunRecord, dict[str, TestRecord]],
) -> None:
    _run, tests = mixed
    assert {title: t.outcome for title, t in tests.items()} == {
        "test_passes": "passed",
        "test_fails": "failed",
        "test_skipped": "skipped",
        "test_expected_failure": "xfailed",
        "test_unexpected_pass": "xpassed",
        "test_strict_unexpected_pass": "failed",
        "test_not_run": "xfailed",
        "test_setup_error": "error",
        "test_teardown_error": "error",
        "test_fails_and_teardown_error": "failed",
        "TestMaths › test_positive[1]": "passed",
        "TestMaths › test_positive[2]": "passed",
        "TestMaths › TestNested › test_inner": "passed",
    }
    assert all(t.file == "test_mixed.py" for t in tests.values())


def test_xfail_is_an_expected_failure_that_keeps_its_error(
    mixed: tuple[RunRecord, dict[str, TestRecord]],
) -> None:
    _run, tests = mixed
    xfail = tests["test_expected_failure"]
    assert xfail.expected_status == "failed"
    assert xfail.annotations == [{"type": "xfail", "description": "bug 12"}]
    # Not a failure of the test: the attempt keeps what failed, the test shows no error.
    assert xfail.error_message is None
    assert [a.status for a in xfail.attempts] == ["xfailed"]
    assert "still broken" in (xfail.attempts[0].error_message or "")

    xpass = tests["test_unexpected_pass"]
    assert xpass.annotations == [{"type": "xpass", "description": "maybe fixed"}]
    assert tests["test_strict_unexpected_pass"].error_message == "[XPASS(strict)] must fail"
    assert tests["test_not_run"].annotations == [{"type": "xfail", "description": "[NOTRUN] hangs"}]


def test_setup_and_teardown_errors_name_their_phase(
    mixed: tuple[RunRecord, dict[str, TestRecord]],
) -> None:
    _run, tests = mixed
    setup = tests["test_setup_error"]
    assert setup.error_message == "[setup error] RuntimeError: database is down"
    assert "def broken_setup" in (setup.error_stack or "")
    assert tests["test_teardown_error"].error_message == (
        "[teardown error] RuntimeError: cleanup failed"
    )
    both = tests["test_fails_and_teardown_error"]
    assert (both.error_message or "").startswith("AssertionError: body failed")
    assert both.attempts[0].extra["errors"][1] == "[teardown error] RuntimeError: cleanup failed"


def test_skip_reason_markers_output_and_location(
    mixed: tuple[RunRecord, dict[str, TestRecord]],
) -> None:
    _run, tests = mixed
    assert tests["test_skipped"].annotations == [
        {"type": "skip", "description": "not on this platform"}
    ]
    passes = tests["test_passes"]
    assert passes.tags == ["@api", "@slow"] or passes.tags == ["@slow", "@api"]
    assert tests["test_skipped"].tags == []  # skip, xfail, parametrize steer pytest: no tags
    assert tests["test_expected_failure"].tags == []
    attempt = passes.attempts[0]
    assert attempt.stdout == "to stdout\n"
    assert attempt.stderr == "to stderr\n"
    assert attempt.started_at is not None
    assert passes.location is not None and passes.location.startswith("test_mixed.py:")


def test_run_counts_and_metadata(mixed: tuple[RunRecord, dict[str, TestRecord]]) -> None:
    run, _tests = mixed
    assert run.source_format == "playwright-json"
    assert run.metadata["playwright"]["stats"] == {
        "expected": 7,
        "unexpected": 5,
        "flaky": 0,
        "skipped": 1,
    }
    assert run.metadata["config"]["pytest"] == {"version": "x"}


def test_reruns_are_attempts_of_one_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_reruns="""
        import pathlib

        def test_flaky():
            marker = pathlib.Path("flaky-marker")
            print("run", marker.exists())
            if not marker.exists():
                marker.write_text("1")
                raise AssertionError("first run fails")

        def test_broken():
            assert False, "always"
        """
    )
    _run, tests = record(pytester, "--reruns", "2")

    flaky = tests["test_flaky"]
    assert flaky.outcome == "flaky"
    assert [(a.retry, a.status, a.stdout) for a in flaky.attempts] == [
        (0, "failed", "run False\n"),
        (1, "passed", "run True\n"),
    ]
    broken = tests["test_broken"]
    assert broken.outcome == "failed"
    assert [a.retry for a in broken.attempts] == [0, 1, 2]


@pytest.mark.skipif(not hasattr(pytest, "SubtestReport"), reason="subtests need pytest >= 9")
def test_failed_subtests_fail_the_test_with_their_own_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_sub="""
        def test_many(subtests):
            for n in (1, 2):
                with subtests.test(msg="case", n=n):
                    assert n == 1
        """
    )
    _run, tests = record(pytester)

    test = tests["test_many"]
    assert test.outcome == "failed"
    assert (test.error_message or "").startswith("[subtest case n=2] ")


def test_collection_errors_are_run_errors_and_error_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_ok="def test_ok():\n    pass\n", test_bad="import nowhere_at_all\n")
    run, tests = record(pytester, "--continue-on-collection-errors")

    # pytest says "1 passed, 1 error": the module that did not collect is an error.
    assert sorted(tests) == ["test_bad", "test_ok"]
    bad = tests["test_bad"]
    assert (bad.file, bad.outcome) == ("test_bad.py", "error")
    assert (bad.error_message or "").startswith(
        "[collection error] ModuleNotFoundError: No module named 'nowhere_at_all'"
    )
    assert len(run.metadata["errors"]) == 1
    assert run.metadata["errors"][0]["message"].startswith(
        "collecting test_bad.py: ModuleNotFoundError: No module named 'nowhere_at_all'"
    )


def test_captured_output_is_bounded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_loud="def test_loud():\n    print('x' * 200_000)\n")
    _run, tests = record(pytester)

    stdout = tests["test_loud"].attempts[0].stdout or ""
    assert len(stdout) <= MAX_OUTPUT_CHARS
    assert stdout.startswith("x" * 1000)
    assert stdout.endswith("characters cut]")


def test_a_crashed_worker_fails_the_test() -> None:
    # What pytest-xdist reports when a worker dies in the middle of a test.
    recorder = Recorder()
    recorder.pytest_runtest_logreport(
        pytest.TestReport(
            nodeid="test_crash.py::test_segfault",
            location=("test_crash.py", None, "test_crash.py"),
            keywords={},
            outcome="failed",
            longrepr="worker 'gw1' crashed while running 'test_crash.py::test_segfault'",
            when="???",  # type: ignore[arg-type]
            worker_id="gw1",
        )
    )
    run = parse_playwright_json(recorder.report(root_dir="/", metadata={}))

    [test] = run.tests
    assert test.outcome == "failed"
    assert test.error_message == "worker 'gw1' crashed while running 'test_crash.py::test_segfault'"
    assert test.location == "test_crash.py"
    assert test.attempts[0].extra["worker_index"] == 1


@pytest.mark.parametrize(
    ("nodeid", "expected"),
    [
        ("tests/test_a.py::test_x", ("tests/test_a.py", [], "test_x")),
        ("test_a.py::TestA::TestB::test_x[1-a]", ("test_a.py", ["TestA", "TestB"], "test_x[1-a]")),
        ("test_a.py::test_x[a::b[c]]", ("test_a.py", [], "test_x[a::b[c]]")),
        ("docs/README.txt", ("docs/README.txt", [], "README.txt")),
    ],
)
def test_node_ids_split_into_file_classes_and_title(
    nodeid: str, expected: tuple[str, list[str], str]
) -> None:
    assert split_nodeid(nodeid) == expected
