"""Test use cases: a test's identity, its history across runs, a project's searchable tests."""

from __future__ import annotations

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.kit.clock import utcnow
from playdeck.kit.pagination import cursor_int, cursor_str, decode_cursor, encode_cursor
from playdeck.models import Project, Test
from playdeck.projects.access import found_in_project
from playdeck.quarantine import repository as quarantines
from playdeck.quarantine.schemas import marks_of
from playdeck.runs.analytics.service import flake_fields_of
from playdeck.runs.filters import contains_pattern, encode_time_id, time_id_cursor
from playdeck.runs.history import repository
from playdeck.runs.history.schemas import (
    HistoryEntry,
    HistoryPage,
    ProjectTestPage,
    TestDetail,
)
from playdeck.runs.pages import Page, as_model, cut_page
from playdeck.runs.schemas import ProjectRef, TestRef

_HISTORY = TypeAdapter(list[HistoryEntry])


def get_test(session: Session, *, principal: Principal, test_id: int) -> tuple[Test, Project]:
    """The test and its project; 404 when missing or in a project hidden from ``principal``."""
    found = repository.get_test(session, test_id)
    return found_in_project(
        session, principal, found, permission=Permission.PROJECT_READ, missing="Test not found"
    )


def describe_test(test: Test, project: Project) -> TestDetail:
    return TestDetail(
        **TestRef.of(test).model_dump(), project=ProjectRef.of(project), created_at=test.created_at
    )


def list_history(session: Session, *, test: Test, cursor: str | None, limit: int) -> HistoryPage:
    """The test's results across runs, newest first."""
    rows = repository.list_history(
        session, test_id=test.id, after=time_id_cursor(cursor), limit=limit
    )
    rows, next_cursor = cut_page(
        rows, limit, lambda last: encode_time_id(last.run_started_at, last.id)
    )
    # Rows read through their mapping into plain values, validated once as a list (a
    # constructor call and ten attribute lookups per row cost more than the query).
    items = _HISTORY.validate_python(
        [
            {
                "result_id": row["id"],
                "run_id": row["run_id"],
                "run_name": row["name"],
                "started_at": row["run_started_at"],
                "branch": row["branch"],
                "commit": row["commit_sha"],
                "outcome": row["outcome"],
                "duration_ms": row["duration_ms"],
                "retry_count": row["retry_count"],
                "error_message": row["error_message"],
            }
            for row in (r._mapping for r in rows)
        ]
    )
    return HistoryPage(items=items, next_cursor=next_cursor)


def project_tests_page(
    session: Session,
    *,
    project: Project,
    q: str | None,
    days: int,
    cursor: str | None,
    limit: int,
    quarantined: bool = False,
) -> Page:
    """A page of the project's tests by title (``ProjectTestPage`` fields), each with its latest
    outcome, flakiness and quarantine; with ``quarantined``, only the tests quarantined now.

    Four statements whatever the page size: the page, the latest result of each test (an
    index seek per test), the flake statistics of the page's tests over ``days`` and the
    quarantines of the page's tests.
    """
    raw = decode_cursor(cursor, arity=2)
    after = (cursor_str(raw[0]), cursor_int(raw[1])) if raw else None
    pattern = contains_pattern(q) if q else None
    now = utcnow()
    tests = repository.list_tests(
        session,
        project_id=project.id,
        pattern=pattern,
        after=after,
        limit=limit,
        only=quarantines.active_filter(project.id, now) if quarantined else None,
    )
    tests, next_cursor = cut_page(
        tests, limit, lambda last: encode_cursor([last.full_title, last.id])
    )
    ids = [t.id for t in tests]
    latest = repository.latest_results(session, ids)
    stats = flake_fields_of(session, project=project, test_ids=ids, days=days)
    marks = quarantines.active_of_tests(session, project.id, ids, now)
    no_result = (None, None)
    items = []
    for row in (t._mapping for t in tests):
        last_outcome, last_run_at = latest.get(row["id"], no_result)
        items.append(
            {
                **row,
                "last_outcome": last_outcome,
                "last_run_at": last_run_at,
                "flakiness": stats.get(row["id"]),
                **marks_of(marks.get(row["id"])),
            }
        )
    return Page(items, next_cursor, head={"days": days})


list_project_tests = as_model(ProjectTestPage, project_tests_page)
