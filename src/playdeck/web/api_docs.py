"""The API documentation: ``/docs`` (Swagger UI), ``/redoc`` (ReDoc) and ``/openapi.json``.

FastAPI's own pages load Swagger UI and ReDoc from a CDN and run inline script, so they are blank
without internet and cannot live under a strict Content-Security-Policy. These serve the same
UIs from assets shipped in the ``fastapi-offline`` package (Swagger UI, Apache-2.0; ReDoc, MIT),
started by Playdeck's own ``api-docs.js``: no inline script, no third-party host. Like every other
page they declare a permission: with authentication on, the API description is for signed-in
users (``authenticated``; browsers are sent to sign in, API clients get 401).
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.web.headers import PAGE_HEADERS
from playdeck.web.rendering import static_url

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, authorize(Permission.AUTHENTICATED)]

ASSETS_PREFIX = "/docs-assets"
ASSETS_DIR = Path(str(files("fastapi_offline").joinpath("static")))
# Both UIs set inline styles (React style props, styled-components), and ReDoc searches in a
# blob: worker; scripts still come only from this origin.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
DOCS_HEADERS = {**PAGE_HEADERS, "Content-Security-Policy": DOCS_CSP}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{assets}/favicon.png">
{css}
</head>
<body>
<div id="{element}" data-openapi="/openapi.json"></div>
<script src="{assets}/{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""


def _page(app_title: str, *, ui: str, element: str, bundle: str, css: str = "") -> HTMLResponse:
    html = _PAGE.format(
        title=escape(f"{app_title} - {ui}"),
        assets=ASSETS_PREFIX,
        css=css,
        element=element,
        bundle=bundle,
        init=static_url("api-docs.js"),
    )
    return HTMLResponse(html, headers=DOCS_HEADERS)


@router.get("/openapi.json")
def openapi_schema(request: Request, _reader: Reader) -> JSONResponse:
    """The OpenAPI document."""
    schema: dict[str, Any] = request.app.openapi()
    return JSONResponse(schema)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request, _reader: Reader) -> HTMLResponse:
    css = f'<link rel="stylesheet" href="{ASSETS_PREFIX}/swagger-ui.css">'
    return _page(
        request.app.title,
        ui="Swagger UI",
        element="swagger-ui",
        bundle="swagger-ui-bundle.js",
        css=css,
    )


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request, _reader: Reader) -> HTMLResponse:
    return _page(request.app.title, ui="ReDoc", element="redoc", bundle="redoc.standalone.js")


def install_api_docs(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(ASSETS_PREFIX, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
