"""List pages answered straight from rows: plain values in their response model's field order,
encoded by orjson, byte for byte what the model would serialise (the golden pages of
``tests/runs/test_list_pages_json.py`` and a comparison with the models pin it).

At 500 rows, validating those values into pydantic models and serialising the models cost as much
as the queries. The models stay: they are the routes' ``response_model`` (the OpenAPI schema), and
what the HTML pages read (``as_model``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar

import orjson
from fastapi import Response
from pydantic import BaseModel, TypeAdapter

# A response object's fields, as JSON-ready values (datetimes aware UTC) in the schema's order.
Fields = dict[str, Any]

P = ParamSpec("P")
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class CursorPage(BaseModel, Generic[T]):
    """The schema of a page: ``RunPage(CursorPage[Run])`` (fields of its own come after)."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Page:
    """A page of items and the cursor of the next one; ``head``: fields before the items
    (``days`` of a project's tests)."""

    items: list[Fields]
    next_cursor: str | None
    head: Fields = field(default_factory=dict)

    @property
    def content(self) -> Fields:
        return {**self.head, "items": self.items, "next_cursor": self.next_cursor}

    def response(self) -> Response:
        # OPT_UTC_Z: "2026-11-29T20:00:00Z", as pydantic writes an aware UTC datetime.
        body = orjson.dumps(self.content, option=orjson.OPT_UTC_Z)
        return Response(content=body, media_type="application/json")


def cut_page(
    rows: list[T], limit: int, cursor_of: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """The first ``limit`` rows, and the cursor of the next page when there is one: the
    repositories fetch one row more than ``limit`` to tell."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, cursor_of(rows[-1])


def as_model(model: type[M], build: Callable[P, Page]) -> Callable[P, M]:
    """``build`` with its page validated into ``model`` (same arguments): for the HTML pages."""

    def validated(*args: P.args, **kwargs: P.kwargs) -> M:
        return model.model_validate(build(*args, **kwargs).content)

    return validated


def as_items(
    items: TypeAdapter[list[T]], build: Callable[P, Page]
) -> Callable[P, tuple[list[T], str | None]]:
    """``build`` with its items validated by ``items`` (same arguments): for the HTML pages."""

    def validated(*args: P.args, **kwargs: P.kwargs) -> tuple[list[T], str | None]:
        page = build(*args, **kwargs)
        return items.validate_python(page.items), page.next_cursor

    return validated
