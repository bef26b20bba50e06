"""The request's session is the one place a transaction ends: a refusal rolls back what the
request flushed, unless it is raised as recorded (``commit=True``), which commits it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.deps import SessionDep
from playdeck.errors import Conflict
from playdeck.models import Project


def _flush_then_refuse(session: SessionDep, name: str, recorded: bool = False) -> None:
    session.add(Project(name=name, slug=name))
    session.flush()
    raise Conflict("refused after writing", code="refused", commit=recorded)


@pytest.mark.parametrize(("recorded", "kept"), [(False, []), (True, ["written"])])
def test_a_refusal_commits_only_what_it_records(
    app: FastAPI, db: Session, recorded: bool, kept: list[str]
) -> None:
    app.add_api_route("/refuse", _flush_then_refuse, methods=["POST"])
    with TestClient(app) as client:
        response = client.post("/refuse", params={"name": "written", "recorded": recorded})
    assert response.status_code == 409
    assert response.json()["code"] == "refused"
    assert list(db.scalars(select(Project.name))) == kept
