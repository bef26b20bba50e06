"""The CI table: each system's build key and shard from its own variables, and the JavaScript
reporter's twin of the table giving the same answers."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from playdeck.kit.ci import CI_SYSTEMS, ci_system, run_key, shard

REPORTER = Path(__file__).parents[2] / "clients" / "playwright-reporter"

# One job of a parallel/sharded build on each system, as its documentation names the variables.
ENVIRONMENTS: dict[str, tuple[dict[str, str], str, str | None]] = {
    "github-actions": (
        {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "9001"},
        "github-actions:acme/shop/9001",
        None,
    ),
    "gitlab": (
        {
            "GITLAB_CI": "true",
            "CI_PROJECT_ID": "42",
            "CI_PIPELINE_ID": "777",
            "CI_NODE_INDEX": "2",
            "CI_NODE_TOTAL": "4",
        },
        "gitlab:42/777",
        "2/4",
    ),
    "jenkins": (
        {"JENKINS_URL": "https://ci.example/", "BUILD_TAG": "jenkins-shop-e2e-88"},
        "jenkins:jenkins-shop-e2e-88",
        None,
    ),
    "circleci": (
        {
            "CIRCLECI": "true",
            "CIRCLE_WORKFLOW_ID": "6c1e-4b2a",
            "CIRCLE_NODE_INDEX": "0",
            "CIRCLE_NODE_TOTAL": "3",
        },
        "circleci:6c1e-4b2a",
        "1/3",
    ),
    "azure-pipelines": (
        {
            "TF_BUILD": "True",
            "SYSTEM_COLLECTIONID": "c0ffee",
            "BUILD_BUILDID": "321",
            "SYSTEM_JOBPOSITIONINPHASE": "3",
            "SYSTEM_TOTALJOBSINPHASE": "3",
        },
        "azure-pipelines:c0ffee/321",
        "3/3",
    ),
    "buildkite": (
        {
            "BUILDKITE": "true",
            "BUILDKITE_BUILD_ID": "0190-aa",
            "BUILDKITE_PARALLEL_JOB": "4",
            "BUILDKITE_PARALLEL_JOB_COUNT": "5",
        },
        "buildkite:0190-aa",
        "5/5",
    ),
}


def test_every_system_of_the_table_has_an_example() -> None:
    assert {s.name for s in CI_SYSTEMS} == set(ENVIRONMENTS)


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_build_key_and_shard_come_from_the_systems_variables(name: str) -> None:
    env, key, expected_shard = ENVIRONMENTS[name]
    system = ci_system(env)
    assert system is not None and system.name == name
    assert run_key(env) == key
    assert shard(env) == expected_shard


def test_outside_ci_there_is_no_key_and_no_shard() -> None:
    assert (run_key({}), shard({})) == (None, None)
    assert run_key({"GITHUB_ACTIONS": "false", "GITHUB_RUN_ID": "1"}) is None


def test_a_build_without_its_variables_has_no_key() -> None:
    assert run_key({"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/shop"}) is None


def test_a_shard_out_of_range_or_alone_is_no_shard() -> None:
    gitlab = {"GITLAB_CI": "true", "CI_NODE_TOTAL": "4"}
    assert shard({**gitlab, "CI_NODE_INDEX": "5"}) is None
    assert shard({**gitlab, "CI_NODE_INDEX": "x"}) is None
    assert shard({**gitlab, "CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "1"}) is None


def test_a_long_or_non_ascii_key_becomes_a_digest() -> None:
    env = {"JENKINS_URL": "x", "BUILD_TAG": "jenkins-" + "é" * 300}
    key = run_key(env)
    assert key is not None and key.startswith("jenkins:sha256:") and len(key) <= 200


@pytest.mark.node
def test_the_reporters_table_is_the_same_and_answers_the_same() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        "const ci = require('./lib/ci.js');"
        "const envs = JSON.parse(process.argv[1]);"
        "const answers = Object.fromEntries(Object.entries(envs).map("
        "([name, env]) => [name, [ci.runKey(env) ?? null, ci.shard(env) ?? null]]));"
        "console.log(JSON.stringify({table: ci.CI_SYSTEMS, answers}));"
    )
    envs = {name: env for name, (env, _, _) in ENVIRONMENTS.items()}
    envs["long"] = {"JENKINS_URL": "x", "BUILD_TAG": "jenkins-" + "é" * 300}
    envs["none"] = {}
    output = subprocess.run(
        [node, "-e", script, json.dumps(envs)],
        cwd=REPORTER,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    found = json.loads(output)
    python_table = [
        {
            "name": s.name,
            "detect": list(s.detect),
            "build": list(s.build),
            "shardIndex": s.shard_index,
            "shardTotal": s.shard_total,
            "indexBase": s.index_base,
        }
        for s in CI_SYSTEMS
    ]
    assert found["table"] == python_table
    assert [f.name for f in dataclasses.fields(CI_SYSTEMS[0])] == [
        "name",
        "detect",
        "build",
        "shard_index",
        "shard_total",
        "index_base",
    ]
    for name, env in envs.items():
        assert found["answers"][name] == [run_key(env), shard(env)], name
