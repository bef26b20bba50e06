"""The typed Playwright JSON parser (msgspec) against the dict-walking one it replaced
(``reference_playwright_json``): equal records from every real Playwright JSON report in
tests/data/ (files and zip entries, found by the registry's own sniff), from variants of the
real report that reach the rarer branches, and the same error message for malformed input."""

from __future__ import annotations

import copy
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from playdeck.ingest.parsers import playwright_json, registry
from playdeck.ingest.parsers.format import read_whole
from playdeck.ingest.parsers.playwright_json import parse_playwright_json
from playdeck.ingest.parsers.reading import MAX_STEPS
from playdeck.ingest.records import ReportFormatError, RunRecord
from tests.ingest.reference_playwright_json import parse_playwright_json_dicts

DATA = Path(__file__).parent.parent / "data"
REAL_REPORT = DATA / "playwright" / "report.json"


def _playwright_reports() -> Iterator[tuple[str, bytes]]:
    """Every document in tests/data/ that the registry reads as a Playwright JSON report."""
    for path in sorted(DATA.rglob("*")):
        name = str(path.relative_to(DATA))
        if path.suffix == ".json":
            yield from _if_playwright(name, path.read_bytes())
        elif path.suffix == ".zip" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for entry in archive.namelist():
                    if entry.endswith(".json"):
                        yield from _if_playwright(f"{name}!{entry}", archive.read(entry))


def _if_playwright(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    head, _ = read_whole(data)
    if registry.sniff(head) is playwright_json.FORMAT:
        yield name, data


REAL = dict(_playwright_reports())


def _both(data: bytes) -> tuple[RunRecord, RunRecord]:
    return parse_playwright_json(data), parse_playwright_json_dicts(orjson.loads(data))


def _assert_same(new: RunRecord, old: RunRecord) -> None:
    assert len(new.tests) == len(old.tests)
    for new_test, old_test in zip(new.tests, old.tests, strict=True):
        assert new_test == old_test, old_test.title_path
    assert new == old
    # Stored as JSON text: the same keys in the same order.
    for new_test, old_test in zip(new.tests, old.tests, strict=True):
        for new_attempt, old_attempt in zip(new_test.attempts, old_test.attempts, strict=True):
            assert orjson.dumps(new_attempt.extra) == orjson.dumps(old_attempt.extra)
            assert orjson.dumps(new_attempt.steps) == orjson.dumps(old_attempt.steps)


def test_every_real_playwright_report_is_compared() -> None:
    # The Playwright run's report.json and the same run zipped, and the client suite's report.
    assert set(REAL) >= {
        "playwright/report.json",
        "playwright/report.zip!report.json",
        "client-suite/report.json",
    }


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_report_gives_the_same_records(name: str) -> None:
    new, old = _both(REAL[name])
    assert new.tests, name
    _assert_same(new, old)


# ---- Variants of the real report: the branches its run did not take ---------------------------


def _results(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    def suites(values: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for suite in values:
            for spec in suite.get("specs", []):
                for test in spec["tests"]:
                    yield from test["results"]
            yield from suites(suite.get("suites", []))

    return suites(report["suites"])


def _tests(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    def suites(values: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for suite in values:
            for spec in suite.get("specs", []):
                yield from spec["tests"]
            yield from suites(suite.get("suites", []))

    return suites(report["suites"])


def _output_and_soft_errors(report: dict[str, Any]) -> None:
    for number, result in enumerate(_results(report)):
        result["stdout"] = [{"buffer": "G1szMW1yZWQbWzBt"}, {"text": f"line {number}\n"}]
        result["stderr"] = [{"text": "\x00nul and \x1b[2mdim\x1b[22m\n"}]
        if result.get("errors"):
            result["errors"] = [*result["errors"], {"message": "soft \x1b[31mtwo\x1b[39m"}]


def _deep_steps(report: dict[str, Any]) -> None:
    step = {"title": "leaf", "duration": 1, "error": {"message": "\x1b[31mboom\x1b[39m"}}
    for result in _results(report):
        nested = [{"title": "outer", "duration": 3.6, "category": "hook", "steps": [step]}]
        result["steps"] = nested + [{"title": f"s{i}", "duration": i} for i in range(MAX_STEPS)]


def _repeats_and_tags(report: dict[str, Any]) -> None:
    for suite in report["suites"]:
        for spec in suite.get("specs", []):
            spec["tests"] = spec["tests"] + copy.deepcopy(spec["tests"])  # --repeat-each 2
            spec["tags"] = ["smoke", "@smoke", " ", "slow"]
            for test in spec["tests"]:
                test["tags"] = ["extra", "smoke"]


def _annotations_everywhere(report: dict[str, Any]) -> None:
    for test in _tests(report):
        test["annotations"] = [{"type": "issue", "description": "#1"}, {"type": ""}]
        for result in test["results"]:
            result["annotations"] = [{"type": "issue", "description": "#1"}, {"type": "slow"}]


def _loose_numbers_and_epoch_times(report: dict[str, Any]) -> None:
    for result in _results(report):
        result["retry"] = float(result.get("retry", 0))
        result["startTime"] = 1_714_557_601_000 + result["retry"]
        result["workerIndex"] = True
        result["errorLocation"] = {"file": "a.ts", "line": 1, "extra": 2}


def _no_start_time_and_global_errors(report: dict[str, Any]) -> None:
    del report["stats"]["startTime"]
    report["errors"] = [{"message": f"\x1b[31mglobal {i}\x1b[39m", "stack": " "} for i in range(60)]
    report["config"]["metadata"] = {
        "gitCommit": {"hash": "abc", "branch": "HEAD", "author": {"name": 5}},
        "revision.subject": "old style",
        "gitDiff": "x" * 100,
    }


def _nulls_for_optional_fields(report: dict[str, Any]) -> None:
    report["config"] = None
    for suite in report["suites"]:
        suite["title"] = None
        for spec in suite.get("specs", []):
            spec["line"] = None
            for test in spec["tests"]:
                test["projectName"] = None
                test["expectedStatus"] = ""
                for result in test["results"]:
                    result["duration"] = None
                    result["error"] = {}
                    result["attachments"] = [{"name": None}, {"path": "", "body": None}]


VARIANTS: dict[str, Callable[[dict[str, Any]], None]] = {
    f.__name__.strip("_"): f
    for f in (
        _output_and_soft_errors,
        _deep_steps,
        _repeats_and_tags,
        _annotations_everywhere,
        _loose_numbers_and_epoch_times,
        _no_start_time_and_global_errors,
        _nulls_for_optional_fields,
    )
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_of_the_real_report_gives_the_same_records(variant: str) -> None:
    report = orjson.loads(REAL_REPORT.read_bytes())
    VARIANTS[variant](report)
    new, old = _both(orjson.dumps(report))
    _assert_same(new, old)


# ---- Malformed input: the same message, naming the same field ---------------------------------


def _first_spec(report: dict[str, Any]) -> dict[str, Any]:
    def specs(values: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for suite in values:
            yield from suite.get("specs", [])
            yield from specs(suite.get("suites", []))

    return next(specs(report["suites"]))


def _first_test(report: dict[str, Any]) -> dict[str, Any]:
    test: dict[str, Any] = _first_spec(report)["tests"][0]
    return test


def _first_result(report: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = _first_test(report)["results"][0]
    return result


MALFORMED: dict[str, Callable[[dict[str, Any]], None]] = {
    "suites not a list": lambda r: r.update(suites={}),
    "suites missing": lambda r: r.pop("suites"),
    "suite not an object": lambda r: r["suites"].insert(0, 5),
    "spec title null": lambda r: _first_spec(r).update(title=None),
    "spec title a number": lambda r: _first_spec(r).update(title=5),
    "tests missing": lambda r: _first_spec(r).pop("tests"),
    "results null": lambda r: _first_test(r).update(results=None),
    "tag not a string": lambda r: _first_spec(r).update(tags=["a", 1]),
    "line a fraction": lambda r: _first_spec(r).update(line=1.5),
    "expected status unknown": lambda r: _first_test(r).update(expectedStatus="sometimes"),
    "status missing": lambda r: _first_result(r).pop("status"),
    "status unknown": lambda r: _first_result(r).update(status="exploded"),
    "status a boolean": lambda r: _first_result(r).update(status=True),
    "duration a string": lambda r: _first_result(r).update(duration="12"),
    "retry a boolean": lambda r: _first_result(r).update(retry=False),
    "start time a boolean": lambda r: _first_result(r).update(startTime=True),
    "start time not a date": lambda r: _first_result(r).update(startTime="yesterday"),
    "error not an object": lambda r: _first_result(r).update(error=[]),
    "stdout chunk text null": lambda r: _first_result(r).update(stdout=[{"text": None}]),
    "attachment without a name": lambda r: _first_result(r).update(
        attachments=[{"contentType": "text/plain", "body": "eA=="}]
    ),
    "attachment body not base64": lambda r: _first_result(r).update(
        attachments=[{"name": "n", "body": "%%%"}]
    ),
    "annotation type a number": lambda r: _first_result(r).update(annotations=[{"type": 1}]),
    "config an array": lambda r: r.update(config=[]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_report_gives_the_same_message(case: str) -> None:
    report = orjson.loads(REAL_REPORT.read_bytes())
    MALFORMED[case](report)
    data = orjson.dumps(report)
    with pytest.raises(ReportFormatError) as old:
        parse_playwright_json_dicts(orjson.loads(data))
    with pytest.raises(ReportFormatError) as new:
        parse_playwright_json(data)
    assert str(new.value) == str(old.value)


def test_a_document_that_is_not_an_object_gives_the_same_message() -> None:
    with pytest.raises(ReportFormatError) as old:
        parse_playwright_json_dicts([])
    with pytest.raises(ReportFormatError) as new:
        parse_playwright_json(b"[]")
    assert str(new.value) == str(old.value) == "report: expected an object, got an array"
