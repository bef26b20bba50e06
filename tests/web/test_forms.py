"""A refused form is shown on its page by the error layer, after the request's transaction has
settled: the page reads what was committed, never what the refused change flushed."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.deps import SessionDep
from playdeck.errors import AppError, Conflict, NotFound
from playdeck.models import Project
from playdeck.web.forms import refusals_on


def _projects_page(session: Session, refusal: AppError) -> Response:
    names = ",".join(session.scalars(select(Project.name).order_by(Project.name)))
    return HTMLResponse(f"{refusal.detail} [{names}]", status_code=refusal.status)


def _form(request: Request, session: SessionDep, recorded: bool = False) -> Response:
    with refusals_on(_projects_page):
        session.add(Project(name="flushed", slug="flushed"))
        session.flush()
        raise Conflict("Refused", commit=recorded)
    return Response(status_code=204)


def _form_missing(session: SessionDep) -> Response:
    with refusals_on(_projects_page, unless=(NotFound,)):
        raise NotFound("Nothing here")
    return Response(status_code=204)


@pytest.mark.parametrize(("recorded", "shown"), [(False, ""), (True, "flushed")])
@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_refused_form_is_shown_on_its_page_after_the_transaction_settles(
    app: FastAPI, db: Session, recorded: bool, shown: str, accept: str
) -> None:
    app.add_api_route("/form", _form, methods=["POST"])
    with TestClient(app) as client:
        response = client.post("/form", params={"recorded": recorded}, headers={"accept": accept})
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == f"Refused [{shown}]"
    assert list(db.scalars(select(Project.name))) == ([shown] if shown else [])


def test_a_refusal_the_page_does_not_take_gets_the_error_answer(app: FastAPI) -> None:
    app.add_api_route("/form", _form_missing, methods=["POST"])
    with TestClient(app) as client:
        response = client.post("/form", headers={"accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["detail"] == "Nothing here"
