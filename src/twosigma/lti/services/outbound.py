"""The one guard every server-side fetch of a URL a platform supplied goes through (docs/lti.md, "Security"):
registration's endpoints, the JWKS, the token endpoint, the membership service and its next pages, line items,
dynamic registration's configuration and registration endpoint.

In production a URL must be https and its host must resolve to public addresses only (sso/oidc.py `ensure_public`:
no loopback, private, link-local, shared or reserved range); in development and tests http and https on any
address (the test platforms run on 127.0.0.1). The host is resolved once, here, and again by the HTTP client that
fetches: a DNS answer that changes between the two (DNS rebinding) is not caught; docs/lti.md says so.

`same_origin` keeps paged and service URLs on the platform's own hosts: exact scheme, host and port.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from twosigma.config import Environment, Settings
from twosigma.kit.errors import AppError
from twosigma.sso import oidc

Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL, the port made explicit; None when it has none."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not host:
        return None
    return parts.scheme, host.rstrip("."), port if port is not None else _DEFAULT_PORTS[parts.scheme]


def same_origin(url: str, other: str) -> bool:
    mine = origin_of(url)
    return mine is not None and mine == origin_of(other)


def public_only(settings: Settings) -> bool:
    return settings.environment is Environment.PRODUCTION


async def refusal(settings: Settings, url: str) -> str | None:
    """Why `url` may not be fetched by the server, or None when it may."""
    parts = origin_of(url)
    if parts is None:
        return f"{url[:200]} is not an http(s) URL"
    if not public_only(settings):
        return None
    if parts[0] != "https":
        return f"{url[:200]} is not https"
    try:
        await oidc.ensure_public(url)
    except AppError:
        return f"{url[:200]} does not resolve to public internet addresses only"
    return None
