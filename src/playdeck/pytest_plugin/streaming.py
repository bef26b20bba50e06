"""``--playdeck-live``: the session's results sent while it runs. A live run is opened as the
tests start; every few seconds a background thread sends the tests finished since (a batch,
with its own ``Idempotency-Key``: a retried batch is stored once) or, with nothing to send, a
heartbeat; at the end the last batch goes and the part is closed (``interrupted`` when the
session was). A session killed outright sends nothing more: the server closes its part as
interrupted after ``PLAYDECK_LIVE_HEARTBEAT_SECONDS``, keeping every batch it received.

A test is finished at the ``pytest_runtest_logfinish`` of an attempt that pytest-rerunfailures
does not run again (it ends every attempt with that hook, and marks the failure it reruns with the
outcome ``rerun``), so a test's attempts always go in one batch; under pytest-xdist the controller
hears all of it from the workers.
If the live run cannot be opened, the session is sent at its end as one upload instead.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from playdeck.pytest_plugin.errors import SendError
from playdeck.pytest_plugin.recorder import Recorder

if TYPE_CHECKING:
    from playdeck.pytest_plugin.live_client import LiveClient
    from playdeck.pytest_plugin.plugin import PlaydeckReporter

# With nothing to send, the client says it is alive this often (the server's default timeout
# is 300 s).
HEARTBEAT_SECONDS = 30.0


class LiveReporter:
    """Registered instead of ``PlaydeckReporter`` when the session streams; that reporter sends
    the whole session at the end if the live run could not be opened."""

    def __init__(self, fallback: PlaydeckReporter, *, interval: float) -> None:
        self.fallback = fallback
        self.config = fallback.config
        self.interval = max(0.2, interval)
        self._lock = threading.Lock()
        self._running: dict[str, list[pytest.TestReport]] = {}
        # Where each running test's current attempt starts in its list of reports.
        self._attempt_start: dict[str, int] = {}
        self._finished: list[pytest.TestReport] = []
        # A batch that failed to go: sent again first, with the same key.
        self._unsent: tuple[str, list[pytest.TestReport]] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: LiveClient | None = None
        self._last_contact = time.monotonic()
        self._problem: str | None = None
        self.message: str | None = None

    # Recording (main thread) ---------------------------------------------------------------

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        with self._lock:
            self._attempt_start[nodeid] = len(self._running.get(nodeid, ()))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        with self._lock:
            self._running.setdefault(report.nodeid, []).append(report)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        with self._lock:
            reports = self._running.get(nodeid, [])
            attempt = reports[self._attempt_start.pop(nodeid, 0) :]
            # pytest types the outcome without pytest-rerunfailures' "rerun".
            if any(str(report.outcome) == "rerun" for report in attempt):
                return  # run again: the test is finished at its last attempt
            self._finished.extend(self._running.pop(nodeid, []))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        if not self.config.option.collectonly:
            expected = len(session.items) or None  # under xdist the workers collect
            self._thread = threading.Thread(
                target=self._stream, args=(expected,), name="playdeck-live", daemon=True
            )
            self._thread.start()
        return (yield)

    # Sending (the background thread, then the main thread at the end) ----------------------

    def _stream(self, expected: int | None) -> None:
        try:
            self._open(expected)
        except Exception as exc:
            self._problem = _reason(exc)
            return
        while not self._stop.wait(self.interval):
            try:
                self._send_finished()
            except Exception as exc:  # tried again at the next tick
                self._problem = _reason(exc)

    def _open(self, expected: int | None) -> None:
        # httpx is imported by sessions that send only (see plugin.py).
        from playdeck.pytest_plugin.live_client import LiveClient

        options = self.fallback.options
        if options.problem is not None:
            raise SendError(options.problem)
        fields, metadata = self.fallback.describe()
        client = LiveClient(options.connection, say=self.fallback._say)
        tags = [t for t in fields.pop("tags", "").split(",") if t]
        client.open({**fields, "tags": tags, "metadata": metadata, "expectedTests": expected})
        self._client = client
        self._last_contact = time.monotonic()

    def _send_finished(self) -> None:
        from playdeck.pytest_plugin.live_client import new_batch_key

        assert self._client is not None
        with self._lock:
            if self._unsent is None and self._finished:
                self._unsent = (new_batch_key(), self._finished)
                self._finished = []
            batch = self._unsent
        if batch is None:
            if time.monotonic() - self._last_contact >= HEARTBEAT_SECONDS:
                self._client.heartbeat()
                self._last_contact = time.monotonic()
            return
        key, reports = batch
        self._client.send_batch(self._batch_report(reports), key)
        self._last_contact = time.monotonic()
        with self._lock:
            self._unsent = None

    def _batch_report(self, reports: list[pytest.TestReport]) -> bytes:
        recorder = Recorder()
        for report in reports:
            recorder.pytest_runtest_logreport(report)
        body = recorder.report(root_dir=str(self.config.rootpath), metadata={})
        return json.dumps(body, ensure_ascii=False).encode("utf-8", "replace")

    # The end ------------------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._client is None:
            self._end_without_live_run(session)
            return
        interrupted = session.exitstatus == pytest.ExitCode.INTERRUPTED
        try:
            with self._lock:
                self._finished.extend(r for rs in self._running.values() for r in rs)
                self._running.clear()
                self._attempt_start.clear()
            while self._unsent is not None or self._finished:
                self._send_finished()
            self._client.close("interrupted" if interrupted else None)
        except Exception as exc:
            self._fail(session, f"playdeck: could not send every result: {_reason(exc)}")
        else:
            self.message = f"playdeck: results sent live: {self._client.url or 'run stored'}"
        finally:
            self._client.close_connection()
        self._show()

    def _end_without_live_run(self, session: pytest.Session) -> None:
        if self._problem is not None:
            self.fallback._say(f"playdeck: no live run ({self._problem}); sending at the end")
        self.fallback.pytest_sessionfinish(session)
        self.message = self.fallback.message

    def _fail(self, session: pytest.Session, message: str) -> None:
        self.message = self.fallback._redact(message)
        if self.fallback.options.strict and session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.NO_TESTS_COLLECTED,
        ):
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def _show(self) -> None:
        if self.message and self.config.pluginmanager.get_plugin("terminalreporter") is None:
            print(self.message, file=sys.stderr)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter
    ) -> Generator[None, None, None]:
        yield
        if self.message is not None:
            sent = self.message.startswith("playdeck: results sent")
            terminalreporter.write_line(self.message, green=sent, yellow=not sent, bold=not sent)


def _reason(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, SendError) else f"{type(exc).__name__}: {exc}"
