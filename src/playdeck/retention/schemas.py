"""The retention API's shapes: a project's policy, branch rules, a prune's report, disk usage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_DAYS = 36_500
MAX_RUNS = 1_000_000
MAX_BRANCH_RULES = 20

Days = Field(default=None, ge=1, le=MAX_DAYS)
Runs = Field(default=None, ge=1, le=MAX_RUNS)


class Limits(BaseModel):
    """How long runs are kept. ``None``: no limit of that kind. A run goes when it is older than
    ``keep_days`` or not among the newest ``keep_last``; its attachments and report files go
    earlier, once it is older than ``files_days``."""

    model_config = ConfigDict(extra="forbid")

    keep_days: int | None = Days
    keep_last: int | None = Runs
    files_days: int | None = Days

    @model_validator(mode="after")
    def _files_not_longer(self) -> Limits:
        if (
            self.files_days is not None
            and self.keep_days is not None
            and self.files_days > self.keep_days
        ):
            raise ValueError("files_days must not be longer than keep_days")
        return self


class BranchRule(Limits):
    """Limits for the runs of matching branches, instead of the project's. ``branch`` is an
    exact name or a shell-style pattern (``release/*``); the first matching rule applies."""

    branch: str = Field(min_length=1, max_length=300)

    @field_validator("branch")
    @classmethod
    def _clean(cls, value: str) -> str:
        value = value.strip()
        if not value or any(ord(ch) < 32 for ch in value):
            raise ValueError("must be a branch name or pattern")
        return value


class RetentionPolicyIn(Limits):
    branch_rules: list[BranchRule] = Field(default_factory=list, max_length=MAX_BRANCH_RULES)

    @field_validator("branch_rules")
    @classmethod
    def _distinct(cls, rules: list[BranchRule]) -> list[BranchRule]:
        seen = [rule.branch for rule in rules]
        if len(set(seen)) != len(seen):
            raise ValueError("each branch pattern may appear only once")
        return rules


class RetentionPolicy(RetentionPolicyIn):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    project_id: int
    # ``None`` while the project has no policy (everything is kept for ever).
    updated_at: datetime | None = None

    @property
    def is_empty(self) -> bool:
        return (
            self.keep_days is None
            and self.keep_last is None
            and self.files_days is None
            and not self.branch_rules
        )

    def stored_rules(self) -> list[dict[str, Any]]:
        return [rule.model_dump() for rule in self.branch_rules]


class ProjectPrune(BaseModel):
    """What one prune did (or, dry, would do) in one project."""

    project_id: int
    project: str
    deleted_runs: list[int]
    pruned_files_runs: list[int]
    removed_files: int = 0


class PruneReport(BaseModel):
    dry_run: bool
    projects: list[ProjectPrune]

    @property
    def deleted_runs(self) -> int:
        return sum(len(p.deleted_runs) for p in self.projects)

    @property
    def pruned_files_runs(self) -> int:
        return sum(len(p.pruned_files_runs) for p in self.projects)


class DiskUsage(BaseModel):
    """A project's share of the database and the file store. Files are stored once per content:
    a file two projects share counts in both."""

    project_id: int
    runs: int
    pinned_runs: int
    results: int
    attachments: int
    attachment_bytes: int
    report_files: int
    report_bytes: int
    stored_bytes: int  # distinct files of the project, attachments and reports together
