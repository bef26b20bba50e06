"""The HTTP side of a live run: open a part, send batches (each with its own
``Idempotency-Key``, kept across retries), heartbeats, close. Failures are ``SendError``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from playdeck.kit.retry import RetryPolicy, send_with_retries
from playdeck.pytest_plugin.connection import Connection
from playdeck.pytest_plugin.errors import SendError
from playdeck.pytest_plugin.sender import _json, _refusal, _unreachable, new_client, sign_in

OPEN_PATH = "/api/test-runs/live"


class LiveClient:
    def __init__(self, connection: Connection, *, say: Callable[[str], None]) -> None:
        self.server = connection.server
        self._connection = connection
        self._client = new_client(connection)
        self._policy = RetryPolicy(attempts=connection.retries + 1)
        self._say = say
        self.part_path: str | None = None
        self.url: str | None = None

    def close_connection(self) -> None:
        self._client.close()

    def _post(self, what: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = send_with_retries(
                lambda: self._client.post(self.server + path, **kwargs),
                policy=self._policy,
                on_retry=lambda note: self._say(f"playdeck: {what}: {note}"),
            )
        except httpx.TransportError as exc:
            raise SendError(_unreachable(self.server, exc)) from exc
        if not response.is_success:
            raise SendError(_refusal(what, response))
        return response

    def open(self, body: dict[str, Any]) -> None:
        sign_in(self._client, self._connection)
        # One key for every attempt: a retried opening answers the part the first one opened.
        key = {"Idempotency-Key": f"pytest-open-{uuid.uuid4()}"}
        opened = _json(self._post("opening the live run", OPEN_PATH, json=body, headers=key))
        run_id, part_id = opened.get("testRunId"), opened.get("partId")
        if not isinstance(run_id, int) or not isinstance(part_id, int):
            raise SendError(f"unexpected answer from {self.server}: not a live run")
        self.part_path = f"/api/test-runs/{run_id}/parts/{part_id}"
        url = opened.get("url")
        self.url = url if isinstance(url, str) else None

    def send_batch(self, report: bytes, key: str) -> None:
        """One batch (a Playwright JSON report of finished tests); ``key`` makes it idempotent:
        a batch sent again with its key is stored once."""
        self._post(
            "sending a batch",
            f"{self.part_path}/results",
            content=report,
            headers={"Content-Type": "application/json", "Idempotency-Key": key},
        )

    def heartbeat(self) -> None:
        self._post("heartbeat", f"{self.part_path}/heartbeat")

    def close(self, status: str | None) -> None:
        self._post("closing the live run", f"{self.part_path}/close", json={"status": status})


def new_batch_key() -> str:
    return f"pytest-batch-{uuid.uuid4()}"
