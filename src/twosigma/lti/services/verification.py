"""Verifying a platform's `id_token` (LTI 1.3 Core §5.1.3, IMS Security Framework §5.1.3): its signature against
the platform's JWKS, then every claim a launch depends on. A failure is a `LaunchRefused` naming the reason, which
the launch page shows and the log records.

The JWKS of each platform is cached per process for `JWKS_TTL_SECONDS`; a token signed with a key id the cache does
not hold makes it fetch the set again at once (the platform rotated its key). A made-up kid cannot make the tool
fetch at will: a token is verified only after its state was found (and deleted), and states come from logins, which
are rate-limited per client address (services/launch.py `LOGINS_PER_ADDRESS`).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from twosigma.kit.errors import BadRequest

HTTP_TIMEOUT_SECONDS = 10.0
MAX_DOCUMENT_BYTES = 512 * 1024
JWKS_TTL_SECONDS = 3600.0
CLOCK_LEEWAY_SECONDS = 60
# Asymmetric algorithms only: a launch is checked against the platform's published keys, never a shared secret.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
ROLES = LTI + "roles"
RESOURCE_LINK = LTI + "resource_link"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
TARGET_LINK_URI = LTI + "target_link_uri"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
DEEP_LINKING = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
MESSAGE_TYPES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)


class LaunchRefused(BadRequest):
    """A launch that cannot go on; `reason` is what the log records (the page shows the message)."""

    code = "lti_launch_refused"
    default_message = "This launch could not be verified. Open the link from your course again."

    def __init__(self, reason: str, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message, code=code, details={"reason": reason})
        self.reason = reason


@dataclass(frozen=True)
class ExpectedLaunch:
    issuer: str
    client_id: str
    nonce: str
    deployment_ids: tuple[str, ...]
    jwks_url: str


class JwksCache:
    """Key sets by JWKS URL, each kept `JWKS_TTL_SECONDS`; one fetch at a time per process."""

    def __init__(self) -> None:
        self._sets: dict[str, tuple[KeySet, float]] = {}
        self._lock = asyncio.Lock()
        self.fetches = 0

    def _fresh(self, url: str, kid: str | None) -> KeySet | None:
        cached = self._sets.get(url)
        if cached is None:
            return None
        keys, at = cached
        return keys if time.monotonic() - at < JWKS_TTL_SECONDS and _holds(keys, kid) else None

    async def keys(self, url: str, kid: str | None) -> KeySet:
        """The cached set if fresh and holding `kid`; otherwise fetched again (a rotated platform key)."""
        found = self._fresh(url, kid)
        if found is not None:
            return found
        async with self._lock:
            found = self._fresh(url, kid)
            if found is not None:
                return found
            document = await _get_json(url)
            self.fetches += 1
            try:
                keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError) as exc:
                raise LaunchRefused("the platform's JWKS holds no usable key") from exc
            self._sets[url] = (keys, time.monotonic())
            return keys

    def clear(self) -> None:
        self._sets.clear()


def _holds(keys: KeySet, kid: str | None) -> bool:
    return kid is None or any(key.kid == kid for key in keys.keys)


_JWKS = JwksCache()


def jwks_cache() -> JwksCache:
    return _JWKS


async def _get_json(url: str) -> dict[str, Any]:
    body = bytearray()
    try:
        async with (
            asyncio.timeout(HTTP_TIMEOUT_SECONDS),
            httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False) as client,
            client.stream("GET", url, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise LaunchRefused(f"the platform's JWKS answered HTTP {response.status_code}")
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise LaunchRefused("the platform's JWKS is too large")
    except (TimeoutError, httpx.HTTPError, httpx.InvalidURL) as exc:
        raise LaunchRefused(f"the platform's JWKS could not be read ({type(exc).__name__})") from exc
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise LaunchRefused("the platform's JWKS is not JSON") from exc
    if not isinstance(document, dict):
        raise LaunchRefused("the platform's JWKS is not a JSON object")
    return document


async def fetch_key_set(url: str) -> KeySet:
    """The platform's key set fetched now (no cache): what `twosigma doctor` checks each platform with. A
    `LaunchRefused` naming what is wrong when it cannot be read or holds no usable key."""
    document = await _get_json(url)
    try:
        keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise LaunchRefused("the platform's JWKS holds no usable key") from exc
    if not keys.keys:
        raise LaunchRefused("the platform's JWKS holds no key")
    return keys


def unverified_header(id_token: str) -> dict[str, Any]:
    try:
        return dict(jws.extract_compact(id_token.encode("ascii")).protected)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise LaunchRefused("the id_token is not a compact JWS") from exc


async def verify(id_token: str, expected: ExpectedLaunch, *, now: int | None = None) -> dict[str, Any]:
    """The launch's claims once signature, issuer, audience, authorized party, times, nonce, deployment, message
    type and version hold."""
    kid = unverified_header(id_token).get("kid")
    keys = await _JWKS.keys(expected.jwks_url, kid if isinstance(kid, str) else None)
    try:
        token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
    except (JoseError, ValueError) as exc:
        raise LaunchRefused(f"the signature does not verify with the platform's keys ({type(exc).__name__})") from exc
    claims = dict(token.claims)
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=CLOCK_LEEWAY_SECONDS,
        iss={"essential": True, "value": expected.issuer},
        aud={"essential": True, "value": expected.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": expected.nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise LaunchRefused("the id_token has expired") from exc
    except JoseError as exc:
        claim = getattr(exc, "claim", None)
        raise LaunchRefused(f"the id_token's {claim or 'claims'} claim is missing or wrong ({exc.error})") from exc
    iat = claims["iat"]
    if not isinstance(iat, int | float) or iat > (now or time.time()) + CLOCK_LEEWAY_SECONDS:
        raise LaunchRefused("the id_token was issued in the future")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != expected.client_id:
        raise LaunchRefused("the id_token's authorized party (azp) is another client")
    if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 255:
        raise LaunchRefused("the id_token's subject is not usable")
    deployment = claims.get(DEPLOYMENT_ID)
    if not isinstance(deployment, str) or deployment not in expected.deployment_ids:
        raise LaunchRefused(f"the deployment id {str(deployment)[:100]!r} is not registered for this platform")
    if claims.get(VERSION) != "1.3.0":
        raise LaunchRefused("the LTI version claim is missing or not 1.3.0")
    message_type = claims.get(MESSAGE_TYPE)
    if message_type not in MESSAGE_TYPES:
        raise LaunchRefused(f"the message type {str(message_type)[:100]!r} is not supported")
    roles = claims.get(ROLES)
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise LaunchRefused("the roles claim is missing")
    if message_type == RESOURCE_LINK_REQUEST:
        link = claims.get(RESOURCE_LINK)
        if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link["id"]:
            raise LaunchRefused("the resource link claim is missing")
    if message_type == DEEP_LINKING_REQUEST:
        settings = claims.get(DEEP_LINKING)
        if not isinstance(settings, dict) or not isinstance(settings.get("deep_link_return_url"), str):
            raise LaunchRefused("the deep linking settings claim is missing")
    return claims
