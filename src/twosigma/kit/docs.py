"""Swagger UI at /docs, served entirely by the app: its assets come from the `swagger-ui-bundle-v2` wheel, so the
page works on an air-gapped install (FastAPI's own /docs loads them from a CDN). ReDoc is not served: no maintained
wheel ships it, and Swagger UI covers the same ground.

The OAuth2 password flow of the Authorize button is FastAPI's: the token URL comes from the security scheme in
the OpenAPI document (authz/dependencies.py) and the redirect page is FastAPI's inline one.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ASSETS_URL = "/docs/assets"
# validatorUrl: null keeps Swagger UI from sending the document's URL to validator.swagger.io for its badge.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI and its assets; the app must be built with `docs_url=None, redoc_url=None`."""
    assets = Path(str(swagger_ui_path))
    app.mount(ASSETS_URL, StaticFiles(directory=assets), name="swagger-ui-assets")

    # Plain Starlette routes, as FastAPI's own docs pages are: nothing to validate, no dependencies to solve.
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon-32x32.png",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}",
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    async def swagger_ui_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_route(DOCS_URL, swagger_ui, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT_URL, swagger_ui_redirect, include_in_schema=False)
