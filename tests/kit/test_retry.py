"""The retry rules, over real ``httpx.Response`` objects (the wire is tested with the clients)."""

from __future__ import annotations

import httpx
import pytest

from playdeck.kit.retry import RetryPolicy, send_with_retries

POLICY = RetryPolicy(attempts=3, base_seconds=1, max_wait_seconds=30, budget_seconds=120)


def _sequence(*answers: int | Exception) -> tuple[list[float], list[str], object]:
    waits: list[float] = []
    notes: list[str] = []
    pending = list(answers)

    def send() -> httpx.Response:
        answer = pending.pop(0)
        if isinstance(answer, Exception):
            raise answer
        headers = {"Retry-After": "7"} if answer == 429 else {}
        return httpx.Response(answer, headers=headers)

    return waits, notes, send


def test_transient_answers_are_retried_then_the_answer_is_returned() -> None:
    waits, notes, send = _sequence(503, httpx.ConnectError("refused"), 201)
    response = send_with_retries(send, policy=POLICY, on_retry=notes.append, sleep=waits.append)  # type: ignore[arg-type]
    assert response.status_code == 201
    assert len(notes) == 2 and "HTTP 503" in notes[0] and "ConnectError" in notes[1]
    assert 0.5 <= waits[0] <= 1 and 1 <= waits[1] <= 2  # exponential, with jitter


def test_429_waits_as_told_and_refusals_are_not_retried() -> None:
    waits, notes, send = _sequence(429, 422)
    response = send_with_retries(send, policy=POLICY, on_retry=notes.append, sleep=waits.append)  # type: ignore[arg-type]
    assert response.status_code == 422
    assert waits == [7.0]


def test_the_last_failure_is_given_back_when_attempts_run_out() -> None:
    waits, notes, send = _sequence(httpx.ConnectError("a"), 502, httpx.ConnectError("c"))
    with pytest.raises(httpx.ConnectError):
        send_with_retries(send, policy=POLICY, on_retry=notes.append, sleep=waits.append)  # type: ignore[arg-type]
    assert len(notes) == 2
    waits, notes, send = _sequence(503, 503, 503)
    last = send_with_retries(send, policy=POLICY, on_retry=notes.append, sleep=waits.append)  # type: ignore[arg-type]
    assert last.status_code == 503


def test_no_retry_starts_past_the_budget() -> None:
    waits, notes, send = _sequence(503, 201)
    tight = RetryPolicy(attempts=5, base_seconds=10, budget_seconds=1)
    response = send_with_retries(send, policy=tight, on_retry=notes.append, sleep=waits.append)  # type: ignore[arg-type]
    assert response.status_code == 503
    assert waits == []
