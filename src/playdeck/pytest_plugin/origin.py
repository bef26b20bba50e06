"""Where a run comes from: the CI system's environment variables, else the git checkout.

Options given to the plugin win over both; git fills only what the CI environment leaves open.
Each git call has a short timeout and fails silently: no git, or a folder outside a repository,
only means fewer facts about the run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GIT_TIMEOUT_SECONDS = 2.0
MAX_EVENT_BYTES = 10 * 1024 * 1024


@dataclass(slots=True)
class RunOrigin:
    branch: str | None = None
    commit: str | None = None
    commit_message: str | None = None
    author: str | None = None
    ci_provider: str | None = None
    build_number: str | None = None
    build_url: str | None = None


def detect_origin(env: Mapping[str, str], cwd: Path) -> RunOrigin:
    origin = from_ci(env)
    fill_from_git(origin, cwd)
    return origin


def from_ci(env: Mapping[str, str]) -> RunOrigin:
    """What GitHub Actions, GitLab CI, CircleCI or Jenkins say about the build, if one runs us."""
    if env.get("GITHUB_ACTIONS") == "true":
        return _github(env)
    if env.get("GITLAB_CI"):
        return _gitlab(env)
    if env.get("CIRCLECI"):
        return _circleci(env)
    if env.get("JENKINS_URL") or env.get("JENKINS_HOME"):
        return _jenkins(env)
    return RunOrigin()


def _github(env: Mapping[str, str]) -> RunOrigin:
    server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    repository, run_id = env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
    build_url = None
    if repository and run_id:
        build_url = f"{server}/{repository}/actions/runs/{run_id}"
        attempt = env.get("GITHUB_RUN_ATTEMPT")
        if attempt and attempt != "1":
            build_url += f"/attempts/{attempt}"
    origin = RunOrigin(
        # GITHUB_HEAD_REF is the pull request's branch; GITHUB_REF_NAME there is "<n>/merge".
        branch=env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME") or None,
        commit=env.get("GITHUB_SHA") or None,
        ci_provider="github-actions",
        build_number=env.get("GITHUB_RUN_NUMBER") or None,
        build_url=build_url,
    )
    event = _github_event(env.get("GITHUB_EVENT_PATH"))
    pull_request = _object(event.get("pull_request"))
    head_sha = _object(pull_request.get("head")).get("sha")
    if isinstance(head_sha, str) and head_sha:
        # GITHUB_SHA of a pull request build is GitHub's merge commit, not the tested branch's.
        origin.commit = head_sha
    head_commit = _object(event.get("head_commit"))
    if head_commit.get("id") == origin.commit:
        message = head_commit.get("message")
        origin.commit_message = _first_line(message) if isinstance(message, str) else None
        name = _object(head_commit.get("author")).get("name")
        origin.author = name if isinstance(name, str) and name else None
    return origin


def _github_event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        with open(path, "rb") as handle:
            return _object(json.loads(handle.read(MAX_EVENT_BYTES)))
    except (OSError, ValueError):
        return {}


def _gitlab(env: Mapping[str, str]) -> RunOrigin:
    author = env.get("CI_COMMIT_AUTHOR") or ""  # "Name <email>"
    return RunOrigin(
        branch=env.get("CI_COMMIT_BRANCH")
        or env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
        or env.get("CI_COMMIT_REF_NAME")
        or None,
        commit=env.get("CI_COMMIT_SHA") or None,
        commit_message=env.get("CI_COMMIT_TITLE") or _first_line(env.get("CI_COMMIT_MESSAGE")),
        author=author.split("<", 1)[0].strip() or None,
        ci_provider="gitlab",
        build_number=env.get("CI_PIPELINE_IID") or env.get("CI_PIPELINE_ID") or None,
        build_url=env.get("CI_JOB_URL") or env.get("CI_PIPELINE_URL") or None,
    )


def _circleci(env: Mapping[str, str]) -> RunOrigin:
    return RunOrigin(
        branch=env.get("CIRCLE_BRANCH") or None,
        commit=env.get("CIRCLE_SHA1") or None,
        ci_provider="circleci",
        build_number=env.get("CIRCLE_BUILD_NUM") or None,
        build_url=env.get("CIRCLE_BUILD_URL") or None,
    )


def _jenkins(env: Mapping[str, str]) -> RunOrigin:
    # The git plugin's GIT_BRANCH names the remote ("origin/main"); multibranch pipelines set
    # BRANCH_NAME ("PR-12" for a pull request, whose own branch is CHANGE_BRANCH).
    branch = env.get("CHANGE_BRANCH") or env.get("BRANCH_NAME") or env.get("GIT_BRANCH") or ""
    for prefix in ("refs/heads/", "origin/"):
        branch = branch.removeprefix(prefix)
    return RunOrigin(
        branch=branch or None,
        commit=env.get("GIT_COMMIT") or None,
        author=env.get("CHANGE_AUTHOR_DISPLAY_NAME") or env.get("GIT_AUTHOR_NAME") or None,
        ci_provider="jenkins",
        build_number=env.get("BUILD_NUMBER") or None,
        build_url=env.get("BUILD_URL") or None,
    )


def fill_from_git(origin: RunOrigin, cwd: Path) -> None:
    """Commit, branch, author and subject from the checkout at ``cwd``, where still unknown.

    Author and subject are taken only when the checkout's HEAD is the run's commit: a pull
    request build checks out a merge commit that is not the commit the run names.
    """
    git = shutil.which("git")
    if git is None:
        return
    head = _git(git, cwd, "rev-parse", "HEAD")
    if head is None:
        return
    origin.commit = origin.commit or head
    if origin.branch is None:
        branch = _git(git, cwd, "rev-parse", "--abbrev-ref", "HEAD")
        origin.branch = branch if branch != "HEAD" else None  # a detached HEAD names no branch
    if not head.startswith(origin.commit.lower()):
        return
    if origin.author is None or origin.commit_message is None:
        log = _git(git, cwd, "log", "-1", "--format=%an%x00%s")
        if log is not None and "\x00" in log:
            author, subject = log.split("\x00", 1)
            origin.author = origin.author or author or None
            origin.commit_message = origin.commit_message or subject or None


def _git(git: str, cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(  # noqa: S603 - a fixed git command line, no shell
            [git, *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out else None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first_line(text: str | None) -> str | None:
    line = (text or "").strip().split("\n", 1)[0].strip()
    return line or None
