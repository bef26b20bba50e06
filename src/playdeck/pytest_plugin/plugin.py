"""The ``pytest11`` entry point: Playdeck's options, and the recorder once a server is named.

pytest loads this module in every session where Playdeck is installed, Playdeck's own test suite
included. Without a server URL it only adds its options: no hooks, no network, no git. It never
imports FastAPI or SQLAlchemy, and httpx only when a run is sent.

Under pytest-xdist the workers only tag their reports with the test's markers; the controller
receives every report, and it alone sends the run.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from playdeck import __version__
from playdeck.pytest_plugin import quarantine, run_options
from playdeck.pytest_plugin.connection import DEFAULT_RETRIES, DEFAULT_TIMEOUT_SECONDS, Connection
from playdeck.pytest_plugin.errors import SendError
from playdeck.pytest_plugin.origin import RunOrigin, fill_from_git, from_ci
from playdeck.pytest_plugin.playwright_artifacts import (
    artifacts_of,
    browser_of,
    content_type,
    title_without_browser,
)
from playdeck.pytest_plugin.recorder import (
    ARTIFACTS_ATTRIBUTE,
    BROWSER_ATTRIBUTE,
    TAGS_ATTRIBUTE,
    TITLE_ATTRIBUTE,
    Recorder,
    marker_tags,
)
from playdeck.pytest_plugin.streaming import LiveReporter

URL_VARIABLES = ("PLAYDECK_URL", "PLAYDECK_SERVER_URL")
REPORTER_NAME = "playdeck-reporter"
RECORDER_NAME = "playdeck-recorder"
TAGGER_NAME = "playdeck-tagger"
# With --playdeck-strict, a session that would have succeeded ends with this status when the run
# could not be sent: it tells "results lost" apart from "tests failed" (1). A session that has
# already failed keeps its status.
STRICT_EXIT_STATUS = pytest.ExitCode.INTERNAL_ERROR
MAX_MESSAGE_CHARS = 500
MAX_MISSING_SHOWN = 3
MAX_MISSING_LISTED = 100


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("playdeck", "send the results to a Playdeck server")
    group.addoption(
        "--playdeck-url",
        metavar="URL",
        help="Playdeck server, e.g. https://playdeck.example.com (or PLAYDECK_URL, "
        "PLAYDECK_SERVER_URL). Without it the plugin does nothing.",
    )
    group.addoption(
        "--playdeck-project",
        metavar="NAME",
        help="Project to store the run in (or PLAYDECK_PROJECT; default: the rootdir's name).",
    )
    group.addoption(
        "--playdeck-api-key",
        metavar="KEY",
        help="API key, sent as 'Authorization: Bearer' (or PLAYDECK_API_KEY).",
    )
    group.addoption(
        "--playdeck-username",
        metavar="NAME",
        help="Log in as this user instead of using an API key (or PLAYDECK_USERNAME).",
    )
    group.addoption(
        "--playdeck-password",
        metavar="PASSWORD",
        help="Password of --playdeck-username (or PLAYDECK_PASSWORD).",
    )
    group.addoption(
        "--playdeck-strict",
        action="store_true",
        default=False,
        help="Exit with status 3 when the run cannot be sent (default: one warning line).",
    )
    group.addoption("--playdeck-branch", metavar="NAME", help="Branch (default: CI or git).")
    group.addoption("--playdeck-commit", metavar="SHA", help="Commit (default: CI or git).")
    group.addoption("--playdeck-environment", metavar="NAME", help="Environment tested.")
    group.addoption("--playdeck-run-name", metavar="NAME", help="Name of the run.")
    group.addoption(
        "--playdeck-tag",
        action="append",
        default=[],
        metavar="TAG",
        help="Tag for the run (repeat, or comma-separate).",
    )
    group.addoption(
        "--playdeck-timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"How long to wait for the server (default: {DEFAULT_TIMEOUT_SECONDS:g}).",
    )
    group.addoption(
        "--playdeck-retries",
        type=int,
        default=None,
        metavar="N",
        help=f"Retries of a transient failure (default: {DEFAULT_RETRIES}, or "
        "PLAYDECK_UPLOAD_RETRIES; 0: none).",
    )
    run_options.add_options(group)
    quarantine.add_options(group)


@dataclass(frozen=True, slots=True)
class PlaydeckOptions:
    connection: Connection
    project: str
    strict: bool = False
    branch: str | None = None
    commit: str | None = None
    environment: str | None = None
    run_name: str | None = None
    tags: list[str] = field(default_factory=list)
    # A configuration mistake, reported at the end of the session like a refused upload.
    problem: str | None = None

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.connection.api_key, self.connection.password) if s]


def read_options(config: pytest.Config, env: Mapping[str, str]) -> PlaydeckOptions | None:
    """The plugin's settings, or ``None`` when no server is configured (the plugin is off)."""

    def value(option: str, *variables: str) -> str | None:
        given = config.getoption(option)
        if isinstance(given, str) and given.strip():
            return given.strip()
        return next((env[v].strip() for v in variables if env.get(v, "").strip()), None)

    server = value("playdeck_url", *URL_VARIABLES)
    if server is None:
        return None
    server = server.rstrip("/")
    api_key = value("playdeck_api_key", "PLAYDECK_API_KEY")
    username = value("playdeck_username", "PLAYDECK_USERNAME")
    password = value("playdeck_password", "PLAYDECK_PASSWORD")
    problem = None
    if not server.startswith(("http://", "https://")):
        problem = f"the server URL must start with http:// or https:// (got {server!r})"
    elif api_key and (username or password):
        problem = "give either an API key or a username and password, not both"
    elif bool(username) != bool(password):
        problem = "--playdeck-username and --playdeck-password go together"
    retries = config.getoption("playdeck_retries")
    if retries is None:
        raw_retries = env.get("PLAYDECK_UPLOAD_RETRIES", "").strip()
        retries = int(raw_retries) if raw_retries.isdigit() else DEFAULT_RETRIES
    raw_tags: list[str] = config.getoption("playdeck_tag") or []
    tags = [t.strip() for tag in raw_tags for t in tag.split(",") if t.strip()]
    return PlaydeckOptions(
        connection=Connection(
            server=server,
            api_key=api_key,
            username=username,
            password=password,
            timeout=config.getoption("playdeck_timeout"),
            retries=max(0, retries),
        ),
        project=value("playdeck_project", "PLAYDECK_PROJECT") or config.rootpath.name,
        strict=bool(config.getoption("playdeck_strict")),
        branch=value("playdeck_branch"),
        commit=value("playdeck_commit"),
        environment=value("playdeck_environment"),
        run_name=value("playdeck_run_name"),
        tags=list(dict.fromkeys(tags)),
        problem=problem,
    )


def pytest_configure(config: pytest.Config) -> None:
    options = read_options(config, os.environ)
    if options is None:
        return
    config.pluginmanager.register(MarkerTagger(), TAGGER_NAME)
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: the controller sends the run
    recorder = Recorder()
    config.pluginmanager.register(recorder, RECORDER_NAME)
    reporter = PlaydeckReporter(config, options, recorder)
    if run_options.live_requested(config, os.environ):
        interval = config.getoption("playdeck_live_interval")
        config.pluginmanager.register(LiveReporter(reporter, interval=interval), REPORTER_NAME)
    else:
        config.pluginmanager.register(reporter, REPORTER_NAME)
    quarantine.register(config, options)


class MarkerTagger:
    """Puts what only the item knows on its reports, where xdist's controller (which has no
    items) finds them: the test's markers, and for a pytest-playwright test its browser and,
    on the teardown report, the files pytest-playwright kept for this attempt."""

    # pytest-playwright's own wrapper is trylast, so inside this one: it has moved the files
    # into place when the teardown report comes back here.
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        report.__dict__[TAGS_ATTRIBUTE] = marker_tags(item)
        browser = browser_of(item)
        if browser is not None:
            report.__dict__[BROWSER_ATTRIBUTE] = browser
            report.__dict__[TITLE_ATTRIBUTE] = title_without_browser(item, browser)
        if report.when == "teardown":
            artifacts = artifacts_of(item)
            if artifacts:
                report.__dict__[ARTIFACTS_ATTRIBUTE] = artifacts
        return report


class PlaydeckReporter:
    """Sends the recorded run at the end of the session and says how that went, in one line."""

    def __init__(self, config: pytest.Config, options: PlaydeckOptions, recorder: Recorder) -> None:
        self.config = config
        self.options = options
        self.recorder = recorder
        self.message: str | None = None
        self.sent = False
        self.missing: list[str] = []

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.config.option.collectonly or self.recorder.empty:
            return
        try:
            url = self._send()
        except Exception as exc:  # reporting must never break the test session
            reason = str(exc) if isinstance(exc, SendError) else f"{type(exc).__name__}: {exc}"
            self.message = f"playdeck: could not send results: {self._redact(reason)}"
            if self.options.strict and session.exitstatus in (
                pytest.ExitCode.OK,
                pytest.ExitCode.NO_TESTS_COLLECTED,
            ):
                session.exitstatus = STRICT_EXIT_STATUS
        else:
            self.sent = True
            self.message = f"playdeck: results sent: {self._redact(url)}"
            if self.missing:
                gone = ", ".join(self.missing[:MAX_MISSING_SHOWN])
                more = len(self.missing) - MAX_MISSING_SHOWN
                self.message += (
                    f" ({len(self.missing)} artifact(s) gone before the upload: {gone}"
                    + (f" and {more} more" if more > 0 else "")
                    + ")"
                )
        if self.config.pluginmanager.get_plugin("terminalreporter") is None:
            print(self.message, file=sys.stderr)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter
    ) -> Generator[None, None, None]:
        yield  # after pytest's own summary, just above the final counts
        if self.message is not None:
            terminalreporter.write_line(
                self.message, green=self.sent, yellow=not self.sent, bold=not self.sent
            )

    def _send(self) -> str:
        # httpx takes about as long to import as pytest itself: only sessions that send pay.
        from playdeck.pytest_plugin.sender import FilePart, send_run

        options = self.options
        if options.problem is not None:
            raise SendError(options.problem)
        fields, metadata = self.describe()
        # An artifact deleted since its test ran (a cleanup, a full disk) is left out and said.
        self.missing = self.recorder.drop_missing_artifacts()
        if self.missing:
            metadata["pytest"]["missingArtifacts"] = self.missing[:MAX_MISSING_LISTED]
        report = self.recorder.report(root_dir=str(self.config.rootpath), metadata=metadata)
        # Captured output may hold lone surrogates, which no UTF-8 JSON parser accepts.
        body = json.dumps(report, ensure_ascii=False).encode("utf-8", "replace")
        return send_run(
            options.connection,
            report=body,
            fields=fields,
            say=self._say,
            files=[
                FilePart(a.upload_name, a.path, content_type(a.path))
                for a in self.recorder.artifacts()
            ],
        )

    def describe(self) -> tuple[dict[str, str], dict[str, Any]]:
        """The run's form fields (the options, then CI, then git; the CI build and shard) and
        its metadata."""
        origin = from_ci(os.environ)
        origin.branch = self.options.branch or origin.branch
        origin.commit = self.options.commit or origin.commit
        fill_from_git(origin, self.config.rootpath)
        fields = {
            **_form_fields(self.options, origin),
            **run_options.run_fields(self.config, os.environ),
        }
        return fields, _metadata(origin)

    def _say(self, line: str) -> None:
        """A note on screen while sending (a retry): the final message comes later."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:  # on a line of its own, after the progress line
            reporter.write_line(self._redact(line), yellow=True)
        else:
            self.config.get_terminal_writer().line(self._redact(line), yellow=True)

    def _redact(self, text: str) -> str:
        for secret in self.options.secrets:
            text = text.replace(secret, "***")
        text = " ".join(text.split())
        if len(text) > MAX_MESSAGE_CHARS:
            text = text[: MAX_MESSAGE_CHARS - 1] + "…"
        return text


def _form_fields(options: PlaydeckOptions, origin: RunOrigin) -> dict[str, str]:
    optional = {
        "branch": origin.branch,
        "commit": origin.commit,
        "commitMessage": origin.commit_message,
        "author": origin.author,
        "ciProvider": origin.ci_provider,
        "buildNumber": origin.build_number,
        "buildUrl": origin.build_url,
        "environment": options.environment,
        "runName": options.run_name,
        "tags": ",".join(options.tags),
    }
    return {"projectName": options.project, **{k: v for k, v in optional.items() if v}}


def _metadata(origin: RunOrigin) -> dict[str, Any]:
    """``config.metadata`` as Playwright writes it (``gitCommit``, ``ci``), plus pytest's facts."""
    git: dict[str, Any] = {
        "hash": origin.commit,
        "branch": origin.branch,
        "subject": origin.commit_message,
    }
    if origin.author:
        git["author"] = {"name": origin.author}
    ci = {
        "provider": origin.ci_provider,
        "buildNumber": origin.build_number,
        "buildHref": origin.build_url,
    }
    return {
        "gitCommit": {k: v for k, v in git.items() if v},
        "ci": {k: v for k, v in ci.items() if v},
        "pytest": {
            "version": pytest.__version__,
            "python": platform.python_version(),
            "platform": sys.platform,
            "playdeck": __version__,
        },
    }
