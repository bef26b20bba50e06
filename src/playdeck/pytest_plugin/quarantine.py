"""Quarantined tests do not fail the session: the project's quarantine list, read from Playdeck
when the session starts, turns a session whose only failures are quarantined tests' into a
passing one (exit status 0). The failures are still recorded and sent as failures.

On by default wherever the plugin sends results (quarantining is a deliberate, audited act in
Playdeck, and it lapses when given an expiry); ``--playdeck-ignore-quarantine`` or
``PLAYDECK_QUARANTINE=off`` turns it off. When the list cannot be read, one warning line says so
and every failure fails the session, as without quarantine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pytest

from playdeck.pytest_plugin.connection import Connection
from playdeck.pytest_plugin.errors import SendError
from playdeck.pytest_plugin.recorder import BROWSER_ATTRIBUTE, TITLE_ATTRIBUTE, split_nodeid

QUARANTINE_PATH = "/api/quarantine"
PLUGIN_NAME = "playdeck-quarantine"
OFF_VALUES = frozenset({"0", "off", "false", "no"})
MAX_LISTED = 10
Identity = tuple[str, str, tuple[str, ...]]  # file, browser project, title path


def add_options(group: Any) -> None:
    group.addoption(
        "--playdeck-ignore-quarantine",
        action="store_true",
        default=False,
        help="Let failures of tests quarantined in Playdeck fail the session too "
        "(or PLAYDECK_QUARANTINE=off).",
    )


def enabled(config: pytest.Config, env: Mapping[str, str]) -> bool:
    if config.getoption("playdeck_ignore_quarantine"):
        return False
    return env.get("PLAYDECK_QUARANTINE", "").strip().lower() not in OFF_VALUES


def identity(nodeid: str, browser: str = "", title: str | None = None) -> Identity:
    """How Playdeck names a pytest test: its file, its project (a pytest-playwright test's
    browser, whose id then leaves the title) and title path (classes, then the name)."""
    file, classes, name = split_nodeid(nodeid)
    return file, browser, (*classes, title or name)


def report_identity(report: pytest.TestReport) -> Identity:
    browser = report.__dict__.get(BROWSER_ATTRIBUTE)
    title = report.__dict__.get(TITLE_ATTRIBUTE)
    if isinstance(browser, str) and isinstance(title, str):
        return identity(report.nodeid, browser, title)
    return identity(report.nodeid)


def fetch(connection: Connection, *, project: str) -> dict[Identity, str]:
    """The project's quarantined tests (identity -> reason); a missing project has none."""
    import httpx  # only sessions that talk to Playdeck pay for it

    from playdeck.pytest_plugin.sender import _refusal, _unreachable, new_client, sign_in

    server = connection.server
    # The upload's waits: at most CONNECT_TIMEOUT_SECONDS to connect, before any test runs.
    with new_client(connection) as client:
        sign_in(client, connection)
        try:
            response = client.get(server + QUARANTINE_PATH, params={"projectName": project})
        except httpx.TransportError as exc:
            raise SendError(_unreachable(server, exc)) from exc
    if response.status_code == 404:
        return {}  # the project does not exist yet: nothing is quarantined in it
    if not response.is_success:
        raise SendError(_refusal("reading the quarantine", response))
    found: dict[Identity, str] = {}
    for entry in response.json().get("tests", []):
        key = (entry["file"], str(entry.get("browser_project", "")), tuple(entry["title_path"]))
        found[key] = str(entry.get("reason", ""))
    return found


class QuarantineGate:
    """Reads the list at session start, watches failures, and settles the exit status."""

    def __init__(self, config: pytest.Config, options: Any) -> None:
        self.config = config
        self.options = options
        self.quarantined: dict[Identity, str] = {}
        self.failed: dict[str, Identity] = {}
        self.collect_failed = False
        self.message: str | None = None
        self.warning: str | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        options = self.options
        if options.problem is not None or self.config.option.collectonly:
            return  # the reporter says what is wrong with the configuration; nothing runs
        try:
            self.quarantined = fetch(options.connection, project=options.project)
        except Exception as exc:  # the quarantine must never break the session
            reason = str(exc) if isinstance(exc, SendError) else type(exc).__name__
            for secret in options.secrets:
                reason = reason.replace(secret, "***")
            self.warning = f"playdeck: quarantine not applied (could not read it): {reason}"

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_failed = True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed[report.nodeid] = report_identity(report)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        excused = sorted(n for n, i in self.failed.items() if i in self.quarantined)
        if not excused:
            return
        names = ", ".join(excused[:MAX_LISTED]) + (" …" if len(excused) > MAX_LISTED else "")
        if (
            session.exitstatus == pytest.ExitCode.TESTS_FAILED
            and not self.collect_failed
            and len(excused) == len(self.failed)
        ):
            session.exitstatus = pytest.ExitCode.OK
            self.message = f"playdeck: only quarantined tests failed, the session passes: {names}"
        else:
            self.message = f"playdeck: quarantined failures (not counted): {names}"

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> Any:
        yield
        # Not being able to read the list matters only to a session that has failures.
        warning = self.warning if self.failed else None
        for line in (warning, self.message):
            if line is not None:
                terminalreporter.write_line(line, yellow=True, bold=line is warning)


def register(config: pytest.Config, options: Any) -> None:
    """Called by the plugin where the session's results are sent (not on xdist workers)."""
    if enabled(config, os.environ):
        config.pluginmanager.register(QuarantineGate(config, options), PLUGIN_NAME)
