"""Every copy of a domain word list agrees with its one enum.

Outcomes, run and attempt statuses, global and project roles are enums
(``playdeck.outcomes``, ``auth.principal.GlobalRole``, ``authz.permissions.ProjectRole``).
What cannot import them — the migrated database, the stylesheet, the OpenAPI document a client
reads — is checked here, so that adding or renaming a member without following through fails.
"""

from __future__ import annotations

import importlib.util
import re
from enum import StrEnum
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect

from playdeck.auth.principal import GlobalRole
from playdeck.authz.permissions import ProjectRole
from playdeck.ingest.parsers.phenx import parse_phenx_submit
from playdeck.ingest.parsers.reading import attempt_status
from playdeck.ingest.records import ReportFormatError
from playdeck.outcomes import FAILING_OUTCOMES, AttemptStatus, Outcome, RunStatus
from playdeck.web.runs import OUTCOME_CHOICES

STYLESHEET = Path(__file__).parents[1] / "src/playdeck/web/static/playdeck.css"
RANK_MIGRATION = (
    Path(__file__).parents[1] / "src/playdeck/migrations/versions/0008_pytest_outcomes.py"
)


def _quoted_values(sql: str) -> set[str]:
    return set(re.findall(r"'([^']*)'", sql))


@pytest.mark.parametrize(
    ("table", "roles"),
    [("users", GlobalRole), ("project_members", ProjectRole), ("account_links", GlobalRole)],
)
def test_migrated_role_check_allows_exactly_the_enum(
    engine: Engine, table: str, roles: type[StrEnum]
) -> None:
    # Reflected from the database the migrations built (PostgreSQL rewrites the text, the
    # quoted values stay).
    checks = {c["name"]: c["sqltext"] for c in inspect(engine).get_check_constraints(table)}
    assert _quoted_values(checks[f"ck_{table}_role"]) == {r.value for r in roles}


def test_migrated_runs_table_counts_every_outcome(engine: Engine) -> None:
    columns = {c["name"] for c in inspect(engine).get_columns("runs")}
    assert {o.value for o in Outcome} <= columns


def test_outcome_rank_puts_failures_first() -> None:
    ranked = sorted(Outcome, key=lambda o: o.rank)
    assert set(ranked[: len(FAILING_OUTCOMES)]) == FAILING_OUTCOMES
    assert ranked[0] is Outcome.FAILED
    assert ranked[-1] is Outcome.SKIPPED
    assert [o.rank for o in ranked] == list(range(len(Outcome)))


def test_stylesheet_colours_every_outcome() -> None:
    css = STYLESHEET.read_text()
    for outcome in Outcome:
        assert f".badge.o-{outcome} " in css, outcome
        assert f"svg .o-{outcome} " in css, outcome


def test_run_page_filter_offers_every_outcome_on_its_own() -> None:
    offered = {value for value, _label in OUTCOME_CHOICES}
    assert {o.value for o in Outcome} <= offered


def test_api_schema_lists_the_enums(app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["GlobalRole"]["enum"] == [r.value for r in GlobalRole]
    assert schemas["ProjectRole"]["enum"] == [r.value for r in ProjectRole]


def test_unknown_run_status_filter_names_every_status(client: TestClient) -> None:
    response = client.get("/api/test-runs", params={"status": "green"})
    assert response.status_code == 422
    expected = ", ".join(sorted(s.value for s in RunStatus))
    assert f"expected one of {expected}" in response.json()["detail"]


def test_parsers_accept_every_attempt_status_and_nothing_else() -> None:
    for status in AttemptStatus:
        assert attempt_status(status.value, "status") is status
    assert attempt_status("timedOut", "status") is AttemptStatus.TIMEDOUT  # Playwright's case
    with pytest.raises(ReportFormatError, match="expected one of"):
        attempt_status("exploded", "status")


def test_phenx_run_status_error_names_every_status() -> None:
    with pytest.raises(ReportFormatError) as raised:
        parse_phenx_submit({"projectName": "p", "status": "green", "startTime": 0})
    assert str(raised.value).endswith(f"expected one of {', '.join(RunStatus)}")


def test_rank_migration_orders_outcomes_as_the_enum() -> None:
    # 0008 re-ranked the stored results in the order the enum had then; a new outcome needs a
    # migration of its own (and this test pointed at it).
    spec = importlib.util.spec_from_file_location("rerank", RANK_MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert list(migration.NEW_ORDER) == [o.value for o in Outcome]
