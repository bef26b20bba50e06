"""Retrying an HTTP request that failed for a reason that may pass: backoff, bounded budget.

Used by the clients that upload results (``playdeck upload``, the pytest plugin), which send
an ``Idempotency-Key`` so a retry of a request the server did store answers the same run.
Retried: connection and timeout errors, 502/503/504, and 429 when the server says when
(``Retry-After``). Anything else is the answer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

RETRY_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5  # in all, the first included
    base_seconds: float = 1.0  # first wait; doubles each time, with jitter
    max_wait_seconds: float = 30.0
    budget_seconds: float = 120.0  # no retry would start after this long


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _reason(response: httpx.Response) -> str | None:
    """Why ``response`` is worth retrying (``None``: it is the answer)."""
    if response.status_code in RETRY_STATUSES:
        return f"HTTP {response.status_code}"
    if response.status_code == 429 and _retry_after(response) is not None:
        return "HTTP 429"
    return None


def send_with_retries(
    send: Callable[[], httpx.Response],
    *,
    policy: RetryPolicy,
    on_retry: Callable[[str], None],
    retry_errors: tuple[type[httpx.TransportError], ...] = (httpx.TransportError,),
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """``send()`` until it gives an answer, retrying within ``policy``; the last failure (a
    response, or the transport error raised) when the attempts or the budget run out."""
    deadline = time.monotonic() + policy.budget_seconds
    attempt = 1
    while True:
        response: httpx.Response | None = None
        try:
            response = send()
        except retry_errors as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            error: httpx.TransportError | None = exc
        else:
            error = None
            reason_or_none = _reason(response)
            if reason_or_none is None:
                return response
            reason = reason_or_none
        backoff = min(policy.max_wait_seconds, policy.base_seconds * 2 ** (attempt - 1))
        wait = backoff * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret
        if response is not None and (hinted := _retry_after(response)) is not None:
            wait = min(policy.max_wait_seconds, hinted)
        if attempt >= policy.attempts or time.monotonic() + wait > deadline:
            if error is not None:
                raise error
            assert response is not None
            return response
        on_retry(
            f"attempt {attempt} of {policy.attempts} failed ({reason}); retrying in {wait:.1f} s"
        )
        sleep(wait)
        attempt += 1
