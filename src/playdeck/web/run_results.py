"""The run page's results arranged for triage: the same failure on several browser projects
as one group, optionally sections by file, each attempt's steps as a tree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from playdeck.outcomes import FAILING_OUTCOMES, FAILING_STATUSES
from playdeck.runs.schemas import Attempt, RunTest


@dataclass(slots=True)
class ResultGroup:
    """One test's results that failed the same way, one per browser project (or one result)."""

    results: list[RunTest]

    @property
    def first(self) -> RunTest:
        return self.results[0]

    @property
    def browsers(self) -> list[str]:
        return [r.test.browser_project for r in self.results if r.test.browser_project]


@dataclass(slots=True)
class Section:
    file: str | None  # None: not grouped by file
    groups: list[ResultGroup]


def _group_key(result: RunTest) -> tuple[Any, ...]:
    if result.outcome not in FAILING_OUTCOMES or not result.error_message:
        return ("result", result.id)
    return ("failure", result.test.file, tuple(result.test.title_path), result.error_message)


def group_results(results: Sequence[RunTest], *, by_file: bool) -> list[Section]:
    """Results in their order (failures first), the same failure's results together; with
    ``by_file``, one section per file in the order files first appear."""
    groups: dict[tuple[Any, ...], ResultGroup] = {}
    for result in results:
        key = _group_key(result)
        if key in groups:
            groups[key].results.append(result)
        else:
            groups[key] = ResultGroup([result])
    if not by_file:
        return [Section(file=None, groups=list(groups.values()))]
    sections: dict[str, Section] = {}
    for group in groups.values():
        file = group.first.test.file
        sections.setdefault(file, Section(file=file, groups=[])).groups.append(group)
    return list(sections.values())


def failing_attempt(result: RunTest) -> int | None:
    """Index of the attempt to open: the last one that failed (``None`` if none did)."""
    for index in range(len(result.attempts) - 1, -1, -1):
        if result.attempts[index].status in FAILING_STATUSES:
            return index
    return None


@dataclass(slots=True)
class StepNode:
    title: str
    duration_ms: int | None
    category: str | None
    error: str | None
    children: list[StepNode] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.error) or any(c.failed for c in self.children)

    @property
    def failed_here(self) -> bool:
        """The deepest failed step: where the failure happened."""
        return self.failed and not any(c.failed for c in self.children)


def step_tree(attempt: Attempt) -> list[StepNode]:
    """The attempt's steps (stored depth-first with their ``depth``) as a tree."""
    roots: list[StepNode] = []
    stack: list[tuple[int, StepNode]] = []
    for raw in attempt.steps:
        depth = raw.get("depth")
        depth = depth if isinstance(depth, int) and depth >= 0 else 0
        duration = raw.get("duration")
        error = raw.get("error")
        node = StepNode(
            title=str(raw.get("title") or ""),
            duration_ms=int(duration) if isinstance(duration, (int, float)) else None,
            category=raw.get("category") if isinstance(raw.get("category"), str) else None,
            error=error if isinstance(error, str) and error else None,
        )
        while stack and stack[-1][0] >= depth:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((depth, node))
    return roots
