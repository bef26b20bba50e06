"""Which CI build and which shard of it this process is, from the CI system's variables: the
one table the clients (``playdeck upload``, the pytest plugin) read to fill ``runKey`` and
``shard`` when they are not given. ``clients/playwright-reporter/lib/ci.js`` is its JavaScript
twin; ``tests/kit/test_ci.py`` proves the two agree.

A run key names the whole build (a workflow run, a pipeline), so its jobs (shards, matrix
entries) and their re-runs merge into one run; a re-run job's tests then count as retries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

MAX_RUN_KEY_CHARS = 200


@dataclass(frozen=True, slots=True)
class CiSystem:
    name: str  # the ``ciProvider`` the clients send
    detect: tuple[str, ...]  # set (non-empty, not "false") when a job runs there
    build: tuple[str, ...]  # together, name one build of one pipeline, unique in the system
    shard_index: str | None = None  # this job's place among parallel jobs...
    shard_total: str | None = None  # ...of this many
    index_base: int = 1  # the first job's index (0 or 1)


CI_SYSTEMS: tuple[CiSystem, ...] = (
    CiSystem("github-actions", ("GITHUB_ACTIONS",), ("GITHUB_REPOSITORY", "GITHUB_RUN_ID")),
    CiSystem(
        "gitlab",
        ("GITLAB_CI",),
        ("CI_PROJECT_ID", "CI_PIPELINE_ID"),
        shard_index="CI_NODE_INDEX",
        shard_total="CI_NODE_TOTAL",
    ),
    CiSystem("jenkins", ("JENKINS_URL", "JENKINS_HOME"), ("BUILD_TAG",)),
    CiSystem(
        "circleci",
        ("CIRCLECI",),
        ("CIRCLE_WORKFLOW_ID",),
        shard_index="CIRCLE_NODE_INDEX",
        shard_total="CIRCLE_NODE_TOTAL",
        index_base=0,
    ),
    CiSystem(
        "azure-pipelines",
        ("TF_BUILD",),
        ("SYSTEM_COLLECTIONID", "BUILD_BUILDID"),
        shard_index="SYSTEM_JOBPOSITIONINPHASE",
        shard_total="SYSTEM_TOTALJOBSINPHASE",
    ),
    CiSystem(
        "buildkite",
        ("BUILDKITE",),
        ("BUILDKITE_BUILD_ID",),
        shard_index="BUILDKITE_PARALLEL_JOB",
        shard_total="BUILDKITE_PARALLEL_JOB_COUNT",
        index_base=0,
    ),
)


def _value(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def ci_system(env: Mapping[str, str]) -> CiSystem | None:
    """The CI system running this process, if any (the first in the table that matches)."""
    for system in CI_SYSTEMS:
        if any(_value(env, v) not in ("", "false") for v in system.detect):
            return system
    return None


def run_key(env: Mapping[str, str]) -> str | None:
    """``<system>:<build>`` for this CI build (``None`` outside CI or without its variables);
    printable ASCII, at most 200 characters (a longer one is shortened to a digest)."""
    system = ci_system(env)
    if system is None:
        return None
    parts = [_value(env, v) for v in system.build]
    if not all(parts):
        return None
    key = f"{system.name}:{'/'.join(parts)}"
    if len(key) > MAX_RUN_KEY_CHARS or not key.isascii() or not key.isprintable():
        key = f"{system.name}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def shard(env: Mapping[str, str]) -> str | None:
    """``"2/8"`` when the CI system runs this job as one of several parallel ones."""
    system = ci_system(env)
    if system is None or system.shard_index is None or system.shard_total is None:
        return None
    index, total = _value(env, system.shard_index), _value(env, system.shard_total)
    if not (index.isdigit() and total.isdigit()):
        return None
    current = int(index) - system.index_base + 1
    if not 1 <= current <= int(total) or int(total) < 2:
        return None
    return f"{current}/{int(total)}"


def run_fields(
    env: Mapping[str, str], *, given_key: str | None, given_shard: str | None
) -> dict[str, str]:
    """The ``runKey`` and ``shard`` a client sends: what it was given, else what the CI system
    says (a shard only with a key: the server refuses a shard of no build)."""
    key = given_key or run_key(env)
    spec = given_shard or (shard(env) if key else None)
    fields = {"runKey": key, "shard": spec}
    return {name: value for name, value in fields.items() if value}
