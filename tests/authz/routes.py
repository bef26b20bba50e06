"""The app's route table, flattened: every (method, path) the app answers, with its route.

FastAPI 0.165 keeps an included router as one wrapper route (``original_router``) whose
``effective_route_contexts`` know each route's full path; older versions copy the routes in.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route

from playdeck.authz.dependencies import declared_permission
from playdeck.authz.permissions import Permission

# Served by FastAPI or Starlette themselves, not by Playdeck's handlers.
# (Playdeck serves its own docs routes, which declare a permission like any other; a plain
# FastAPI app's built-in ones are skipped.)
SKIPPED_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
SKIPPED_MOUNTS = frozenset({"/static", "/docs-assets"})


@dataclass(frozen=True)
class AppRoute:
    method: str
    path: str
    route: APIRoute

    @property
    def permissions(self) -> list[Permission]:
        return [
            p
            for d in self.route.dependant.dependencies
            if (p := declared_permission(d.call)) is not None
        ]

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _flatten(routes: Sequence[BaseRoute]) -> Iterator[tuple[str, BaseRoute]]:
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                yield context.path, context.original_route
        elif isinstance(route, Mount):
            assert route.path in SKIPPED_MOUNTS, f"unexpected mount {route.path}"
        else:
            yield getattr(route, "path", ""), route


def app_routes(app: FastAPI) -> list[AppRoute]:
    """Every handler route of ``app`` and method (HEAD aside), in registration order."""
    found = []
    for path, route in _flatten(app.routes):
        if path in SKIPPED_PATHS and not isinstance(route, APIRoute):
            assert isinstance(route, Route), path
            continue
        assert isinstance(route, APIRoute), f"{path}: {route!r} is not an APIRoute"
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append(AppRoute(method=method, path=path, route=route))
    return found
