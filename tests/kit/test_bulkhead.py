from __future__ import annotations

import pytest

from playdeck.kit.bulkhead import Bulkhead, DependencyUnavailable


class Down(Exception):
    pass


def test_callers_beyond_the_limit_are_refused_at_once() -> None:
    bulkhead = Bulkhead(max_waiting=1, cooldown_seconds=2, failures=(Down,))
    with bulkhead.call(), pytest.raises(DependencyUnavailable), bulkhead.call():
        pass  # the second caller never waits
    with bulkhead.call():
        pass  # the slot is free again


def test_a_failure_fails_the_next_calls_fast_until_the_cooldown_ends() -> None:
    now = [100.0]
    bulkhead = Bulkhead(max_waiting=4, cooldown_seconds=2, failures=(Down,), clock=lambda: now[0])
    with pytest.raises(Down), bulkhead.call():
        raise Down
    assert bulkhead.is_open
    with pytest.raises(DependencyUnavailable), bulkhead.call():
        pass
    now[0] += 2.5
    assert not bulkhead.is_open
    with bulkhead.call():
        pass


def test_other_errors_do_not_open_the_breaker() -> None:
    bulkhead = Bulkhead(max_waiting=1, cooldown_seconds=2, failures=(Down,))
    with pytest.raises(ValueError), bulkhead.call():
        raise ValueError
    assert not bulkhead.is_open
