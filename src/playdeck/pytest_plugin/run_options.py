"""The plugin's options for runs in parts: which CI build the session belongs to
(``--playdeck-run-key``, ``--playdeck-shard``, else the CI system's variables) and whether it
streams its results while it runs (``--playdeck-live``). No httpx here: every session loads it."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from playdeck.kit import ci

DEFAULT_LIVE_INTERVAL_SECONDS = 5.0


def add_options(group: pytest.OptionGroup) -> None:
    group.addoption(
        "--playdeck-run-key",
        metavar="KEY",
        help="The CI build: sessions with the same key are one run (shards, matrix jobs; or "
        "PLAYDECK_RUN_KEY; default: from the CI system's variables).",
    )
    group.addoption(
        "--playdeck-shard",
        metavar="N/M",
        help="This session's shard of the build, e.g. 2/8 (or PLAYDECK_SHARD; default: from "
        "the CI system's parallel-job variables).",
    )
    group.addoption(
        "--playdeck-live",
        action="store_true",
        default=False,
        help="Send results while the suite runs (or PLAYDECK_LIVE=1): the run shows 'running' "
        "and keeps what was sent if the session is killed.",
    )
    group.addoption(
        "--playdeck-live-interval",
        type=float,
        default=DEFAULT_LIVE_INTERVAL_SECONDS,
        metavar="SECONDS",
        help=f"With --playdeck-live: seconds between batches (default: "
        f"{DEFAULT_LIVE_INTERVAL_SECONDS:g}).",
    )


def _given(config: pytest.Config, option: str, env: Mapping[str, str], variable: str) -> str | None:
    value = config.getoption(option)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return env.get(variable, "").strip() or None


def run_fields(config: pytest.Config, env: Mapping[str, str]) -> dict[str, str]:
    """``runKey`` and ``shard`` for the upload (or the live run's opening), when there are."""
    return ci.run_fields(
        env,
        given_key=_given(config, "playdeck_run_key", env, "PLAYDECK_RUN_KEY"),
        given_shard=_given(config, "playdeck_shard", env, "PLAYDECK_SHARD"),
    )


def live_requested(config: pytest.Config, env: Mapping[str, str]) -> bool:
    return bool(config.getoption("playdeck_live")) or env.get("PLAYDECK_LIVE", "") in (
        "1",
        "true",
        "yes",
    )
