"""/docs works on an air-gapped install: Swagger UI and everything it loads come from the app itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.factories import DEFAULT_PASSWORD, make_user

# Anything that names a host: absolute URLs and protocol-relative ones.
EXTERNAL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+", re.IGNORECASE)


class References(HTMLParser):
    """The URLs a page makes the browser load (scripts, styles, icons, images, frames)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def references(page: str) -> list[str]:
    parser = References()
    parser.feed(page)
    return parser.urls


class TestSwaggerUIOffline:
    async def test_the_docs_page_names_no_other_host(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/docs")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert EXTERNAL.findall(response.text) == []
        urls = references(response.text)
        assert urls, "the page loads its script and style sheet"
        assert all(not urlsplit(url).netloc and url.startswith("/") for url in urls), urls
        assert "url: '/openapi.json'" in response.text

    async def test_every_asset_the_page_references_is_served_by_the_app(self, client: httpx.AsyncClient) -> None:
        page = (await client.get("/docs")).text
        urls = references(page)
        assert any(url.endswith(".js") for url in urls)
        assert any(url.endswith(".css") for url in urls)
        for url in urls:
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 0, url

    async def test_swagger_ui_is_not_asked_to_send_the_document_to_an_online_validator(
        self, client: httpx.AsyncClient
    ) -> None:
        assert '"validatorUrl": null' in (await client.get("/docs")).text

    async def test_redoc_is_not_served(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/redoc")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


class TestAuthorizeButton:
    async def test_the_offline_page_signs_in_with_the_password_flow_of_the_document(
        self, client: httpx.AsyncClient, db: AsyncSession
    ) -> None:
        page = (await client.get("/docs")).text
        assert EXTERNAL.findall(page) == []
        assert "oauth2RedirectUrl: window.location.origin + '/docs/oauth2-redirect'" in page
        redirect = await client.get("/docs/oauth2-redirect")
        assert redirect.status_code == 200
        assert EXTERNAL.findall(redirect.text) == []
        user = await make_user(db)
        schemes = (await client.get("/openapi.json")).json()["components"]["securitySchemes"]
        (flow,) = [scheme["flows"]["password"] for scheme in schemes.values() if scheme["type"] == "oauth2"]
        # What Swagger UI posts when Authorize is submitted with a username and a password.
        response = await client.post(flow["tokenUrl"], data={"username": user.email, "password": DEFAULT_PASSWORD})
        assert response.status_code == 200, response.text
        assert response.json()["token_type"] == "bearer"
        token = response.json()["access_token"]
        me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
