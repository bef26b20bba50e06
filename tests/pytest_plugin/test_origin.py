"""Git and CI facts: each CI system's variables, and a real git checkout when CI says nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from playdeck.pytest_plugin.origin import RunOrigin, detect_origin, fill_from_git, from_ci

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")


def test_github_actions_push() -> None:
    origin = from_ci(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REF_NAME": "main",
            "GITHUB_HEAD_REF": "",
            "GITHUB_SHA": "a" * 40,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_RUN_ID": "123",
            "GITHUB_RUN_NUMBER": "45",
            "GITHUB_RUN_ATTEMPT": "2",
        }
    )
    assert origin == RunOrigin(
        branch="main",
        commit="a" * 40,
        ci_provider="github-actions",
        build_number="45",
        build_url="https://github.com/acme/shop/actions/runs/123/attempts/2",
    )


def test_github_actions_pull_request_names_the_branch_and_its_head(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"head": {"sha": "b" * 40}}}))
    origin = from_ci(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REF_NAME": "12/merge",
            "GITHUB_HEAD_REF": "feature/cart",
            "GITHUB_SHA": "c" * 40,  # GitHub's merge commit
            "GITHUB_EVENT_PATH": str(event),
        }
    )
    assert (origin.branch, origin.commit) == ("feature/cart", "b" * 40)


def test_github_actions_push_event_gives_message_and_author(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    head = {"id": "d" * 40, "message": "Fix the cart\n\nLong story.", "author": {"name": "Ada"}}
    event.write_text(json.dumps({"head_commit": head}))
    origin = from_ci(
        {"GITHUB_ACTIONS": "true", "GITHUB_SHA": "d" * 40, "GITHUB_EVENT_PATH": str(event)}
    )
    assert (origin.commit_message, origin.author) == ("Fix the cart", "Ada")


def test_gitlab_merge_request_pipeline() -> None:
    origin = from_ci(
        {
            "GITLAB_CI": "true",
            "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/cart",
            "CI_COMMIT_REF_NAME": "refs/merge-requests/3/head",
            "CI_COMMIT_SHA": "e" * 40,
            "CI_COMMIT_MESSAGE": "Fix the cart\n\nDetails",
            "CI_COMMIT_AUTHOR": "Ada Lovelace <ada@example.com>",
            "CI_PIPELINE_IID": "9",
            "CI_PIPELINE_URL": "https://gitlab.example.com/acme/shop/-/pipelines/900",
        }
    )
    assert origin == RunOrigin(
        branch="feature/cart",
        commit="e" * 40,
        commit_message="Fix the cart",
        author="Ada Lovelace",
        ci_provider="gitlab",
        build_number="9",
        build_url="https://gitlab.example.com/acme/shop/-/pipelines/900",
    )


def test_jenkins_strips_the_remote_from_the_branch() -> None:
    origin = from_ci(
        {
            "JENKINS_URL": "https://ci.example.com/",
            "GIT_BRANCH": "origin/release/2.0",
            "GIT_COMMIT": "f" * 40,
            "BUILD_NUMBER": "77",
            "BUILD_URL": "https://ci.example.com/job/shop/77/",
        }
    )
    assert (origin.ci_provider, origin.branch, origin.commit) == (
        "jenkins",
        "release/2.0",
        "f" * 40,
    )
    assert (origin.build_number, origin.build_url) == ("77", "https://ci.example.com/job/shop/77/")


def test_circleci() -> None:
    origin = from_ci(
        {
            "CIRCLECI": "true",
            "CIRCLE_BRANCH": "main",
            "CIRCLE_SHA1": "1" * 40,
            "CIRCLE_BUILD_NUM": "314",
            "CIRCLE_BUILD_URL": "https://app.circleci.com/pipelines/gh/acme/shop/314",
        }
    )
    assert (origin.ci_provider, origin.branch, origin.commit, origin.build_number) == (
        "circleci",
        "main",
        "1" * 40,
        "314",
    )


def test_no_ci_says_nothing() -> None:
    assert from_ci({"HOME": "/root"}) == RunOrigin()


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Grace Hopper", "-c", "user.email=grace@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env={"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"},
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q", "-b", "topic")
    (tmp_path / "a.txt").write_text("a")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "commit", "-q", "-m", "Add a\n\nBody")
    return tmp_path


@needs_git
def test_git_fills_what_ci_left_open(repo: Path) -> None:
    head = _git(repo, "rev-parse", "HEAD")

    origin = detect_origin({}, repo)

    assert origin == RunOrigin(
        branch="topic", commit=head, commit_message="Add a", author="Grace Hopper"
    )


@needs_git
def test_git_does_not_describe_another_commit(repo: Path) -> None:
    origin = RunOrigin(branch="main", commit="0" * 40)

    fill_from_git(origin, repo)

    # The checkout's HEAD is not the run's commit: its author and subject would be wrong.
    assert origin == RunOrigin(branch="main", commit="0" * 40)


@needs_git
def test_a_detached_head_names_no_branch(repo: Path) -> None:
    _git(repo, "checkout", "-q", "--detach")

    origin = detect_origin({}, repo)

    assert origin.branch is None
    assert origin.commit == _git(repo, "rev-parse", "HEAD")


def test_outside_a_repository_git_says_nothing(tmp_path: Path) -> None:
    assert detect_origin({}, tmp_path) == RunOrigin()
