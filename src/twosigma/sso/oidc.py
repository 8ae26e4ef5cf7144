"""The OpenID Connect relying party: discovery, the authorization URL (PKCE S256), the code exchange (Authlib's
client) and the ID token's validation against the provider's JWKS (joserfc).

The JWKS of each provider is cached per process for `JWKS_TTL_SECONDS`; an ID token signed with a key id the cache
does not hold makes it fetch the set again at once (the provider rotated its key). That refetch is not rate-limited:
an ID token reaches this code only from the provider's own token endpoint, over the back channel, in answer to a
code and a verifier the provider issued, so nobody else can make the server fetch.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc6749.errors import OAuth2Error
from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from twosigma.kit.errors import BadRequest, Invalid, UpstreamError

HTTP_TIMEOUT_SECONDS = 10.0  # for a whole request, its body included: a provider that trickles is cut off
MAX_DOCUMENT_BYTES = 512 * 1024  # a discovery document or a JWKS is a few kilobytes
JWKS_TTL_SECONDS = 3600.0
CLOCK_LEEWAY_SECONDS = 60
# Asymmetric algorithms only: the ID token is checked against the provider's published keys, never a shared secret.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
DISCOVERY_PATH = "/.well-known/openid-configuration"


class DiscoveryFailed(Invalid):
    code = "sso_discovery_failed"
    default_message = "The provider's discovery document could not be read."


class DiscoveryInconsistent(Invalid):
    code = "sso_discovery_inconsistent"
    default_message = "The provider's discovery document does not fit this configuration."


class IssuerNotPublic(Invalid):
    code = "sso_issuer_not_public"
    default_message = (
        "The issuer and the endpoints its discovery document names must be https URLs on public internet addresses."
    )


class ProviderUnreachable(UpstreamError):
    code = "sso_provider_unreachable"
    default_message = "The identity provider could not be reached; try again shortly."


class TokenExchangeFailed(BadRequest):
    code = "sso_token_exchange_failed"
    default_message = "The identity provider refused the sign-in's code."


class InvalidIdToken(BadRequest):
    code = "sso_id_token_invalid"
    default_message = "The identity provider's ID token is not valid for this sign-in."


@dataclass(frozen=True)
class ProviderMetadata:
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def _http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + DISCOVERY_PATH


async def _get_json(url: str, failure: type[Invalid]) -> dict[str, Any]:
    """GET a JSON object, bounded in time (`HTTP_TIMEOUT_SECONDS` for the whole exchange, not per read) and in size
    (`MAX_DOCUMENT_BYTES`, refused as soon as the body grows past it): a provider's admin chooses these URLs."""
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port out of range, an unclosed [ipv6
        usable = False
    if not usable:
        raise failure(f"{url} is not a usable URL.")
    body = bytearray()
    try:
        async with asyncio.timeout(HTTP_TIMEOUT_SECONDS), _http() as client:
            async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
                if response.status_code != 200:
                    raise failure(f"{url} answered HTTP {response.status_code}.")
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise failure(f"{url} answered a document too large (over {MAX_DOCUMENT_BYTES} bytes).")
    except TimeoutError as exc:
        raise failure(f"{url} did not answer within {HTTP_TIMEOUT_SECONDS:g} seconds.") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise failure(f"{url} could not be reached ({type(exc).__name__}).") from exc
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise failure(f"{url} did not answer JSON.") from exc
    if not isinstance(document, dict):
        raise failure(f"{url} did not answer a JSON object.")
    return document


async def ensure_public(url: str) -> None:
    """422 `sso_issuer_not_public` unless `url` is https and its host resolves to public addresses only (no
    loopback, private, link-local, shared or reserved range): a production install's provider is on the internet,
    and its admin must not make the server fetch its own metadata service or internal hosts."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a port out of range, an unclosed [ipv6
        raise IssuerNotPublic(details={"url": url}) from exc
    if parts.scheme != "https" or not host:
        raise IssuerNotPublic(details={"url": url})
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise DiscoveryFailed(f"{host} does not resolve.") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).partition("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise IssuerNotPublic(details={"url": url})


def _url_field(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.startswith(("https://", "http://")) or len(value) > 1000:
        raise DiscoveryInconsistent(f"The discovery document has no usable {name}.", details={"field": name})
    return value


async def discover(issuer: str, *, public_only: bool = False) -> ProviderMetadata:
    """Read and check `{issuer}/.well-known/openid-configuration` and the JWKS it names (422 when it does not fit).
    `public_only` (production): the issuer and every endpoint it names must pass `ensure_public`, each checked
    before it is fetched."""
    if public_only:
        await ensure_public(issuer)
    document = await _get_json(discovery_url(issuer), DiscoveryFailed)
    if document.get("issuer") != issuer:
        raise DiscoveryInconsistent(
            "The discovery document names another issuer; configure exactly the issuer it names.",
            details={"issuer": document.get("issuer") if isinstance(document.get("issuer"), str) else None},
        )
    for name, wanted in (("response_types_supported", "code"), ("code_challenge_methods_supported", "S256")):
        supported = document.get(name)
        if isinstance(supported, list) and wanted not in supported:
            raise DiscoveryInconsistent(f"The provider does not list {wanted} in {name}.", details={"field": name})
    metadata = ProviderMetadata(
        authorization_endpoint=_url_field(document, "authorization_endpoint"),
        token_endpoint=_url_field(document, "token_endpoint"),
        jwks_uri=_url_field(document, "jwks_uri"),
    )
    if public_only:
        for url in (metadata.authorization_endpoint, metadata.token_endpoint, metadata.jwks_uri):
            await ensure_public(url)
    keys = _key_set(await _get_json(metadata.jwks_uri, DiscoveryFailed))
    if keys is None:
        raise DiscoveryInconsistent("The provider's JWKS holds no usable key.", details={"field": "jwks_uri"})
    _JWKS.put(metadata.jwks_uri, keys)
    return metadata


def _key_set(document: dict[str, Any]) -> KeySet | None:
    try:
        keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError):
        return None
    return keys if keys.keys else None


class JwksCache:
    """Key sets by JWKS URI, each kept `JWKS_TTL_SECONDS`; one fetch at a time per process."""

    def __init__(self) -> None:
        self._sets: dict[str, tuple[KeySet, float]] = {}
        self._lock = asyncio.Lock()
        self.fetches = 0

    def put(self, uri: str, keys: KeySet) -> None:
        self._sets[uri] = (keys, time.monotonic())

    async def keys(self, uri: str, kid: str | None) -> KeySet:
        """The cached set if fresh and holding `kid`; otherwise fetched again (key rotation)."""
        cached = self._sets.get(uri)
        if cached is not None and time.monotonic() - cached[1] < JWKS_TTL_SECONDS and _holds(cached[0], kid):
            return cached[0]
        async with self._lock:
            cached = self._sets.get(uri)
            if cached is not None and time.monotonic() - cached[1] < JWKS_TTL_SECONDS and _holds(cached[0], kid):
                return cached[0]
            try:
                document = await _get_json(uri, DiscoveryFailed)
            except DiscoveryFailed as exc:
                raise ProviderUnreachable(details={"jwks_uri": uri}) from exc
            self.fetches += 1
            keys = _key_set(document)
            if keys is None:
                raise InvalidIdToken("The provider's JWKS holds no usable key.")
            self.put(uri, keys)
            return keys


def _holds(keys: KeySet, kid: str | None) -> bool:
    return kid is None or any(key.kid == kid for key in keys.keys)


_JWKS = JwksCache()


def jwks_cache() -> JwksCache:
    return _JWKS


def _client(client_id: str, client_secret: str, scopes: list[str], redirect_uri: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=client_id,
        client_secret=client_secret,
        scope=" ".join(scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT_SECONDS,
    )


def authorization_url(
    *,
    endpoint: str,
    client_id: str,
    scopes: list[str],
    redirect_uri: str,
    state: str,
    nonce: str,
    code_verifier: str,
) -> str:
    client = _client(client_id, "", scopes, redirect_uri)
    url, _ = client.create_authorization_url(endpoint, state=state, code_verifier=code_verifier, nonce=nonce)
    return str(url)


async def exchange_code(
    *,
    token_endpoint: str,
    client_id: str,
    client_secret: str,
    scopes: list[str],
    redirect_uri: str,
    code: str,
    code_verifier: str,
) -> str:
    """The ID token the provider answers for `code` (client_secret_basic, with the PKCE verifier)."""
    async with _client(client_id, client_secret, scopes, redirect_uri) as client:
        try:
            async with asyncio.timeout(HTTP_TIMEOUT_SECONDS):
                token = await client.fetch_token(token_endpoint, code=code, code_verifier=code_verifier)
        except OAuth2Error as exc:
            raise TokenExchangeFailed(details={"provider_error": str(getattr(exc, "error", "") or "")[:100]}) from exc
        except (httpx.HTTPError, TimeoutError) as exc:
            raise ProviderUnreachable() from exc
        except ValueError as exc:  # not a JSON token response
            raise TokenExchangeFailed() from exc
    id_token = token.get("id_token") if isinstance(token, dict) else None
    if not isinstance(id_token, str) or not id_token:
        raise TokenExchangeFailed("The identity provider answered no ID token.")
    return id_token


async def validate_id_token(
    id_token: str, *, jwks_uri: str, issuer: str, client_id: str, nonce: str, now: int | None = None
) -> dict[str, Any]:
    """The ID token's claims once its signature (the provider's JWKS), issuer, audience, expiry and nonce hold."""
    try:
        header = jws.extract_compact(id_token.encode("ascii")).protected
    except (JoseError, ValueError, UnicodeError) as exc:
        raise InvalidIdToken() from exc
    kid = header.get("kid")
    keys = await _JWKS.keys(jwks_uri, kid if isinstance(kid, str) else None)
    try:
        token = jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGORITHMS))
    except (JoseError, ValueError) as exc:
        raise InvalidIdToken("The ID token's signature does not verify with the provider's keys.") from exc
    claims = dict(token.claims)
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=CLOCK_LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        claim = "exp" if isinstance(exc, ExpiredTokenError) else getattr(exc, "claim", None)
        raise InvalidIdToken(
            f"The ID token's {claim or 'claims'} do not match this sign-in.",
            details={"claim": claim} if isinstance(claim, str) else None,
        ) from exc
    azp = claims.get("azp")
    if isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1 and azp != client_id:
        raise InvalidIdToken("The ID token's authorized party is another client.", details={"claim": "azp"})
    if not isinstance(claims.get("sub"), str) or not 0 < len(claims["sub"]) <= 255:
        raise InvalidIdToken("The ID token's subject is not usable.", details={"claim": "sub"})
    return claims
