"""The credentials of an API key in an `Authorization: Basic …` header (public key as user name, secret key as
password), parsed before any lookup."""

from __future__ import annotations

import base64
import binascii

from twosigma.api_keys import service


def basic_credentials(header: str) -> tuple[str, str]:
    """(public key, secret key) from an `Authorization: Basic …` header value; 401 when it is not one."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise service.unauthorized("HTTP Basic authentication with an API key is required.")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise service.unauthorized("Malformed Basic credentials.") from exc
    public_key, sep, secret_key = decoded.partition(":")
    if not sep or not public_key or not secret_key or not _is_public_key(public_key):
        raise service.unauthorized("Malformed Basic credentials.")
    return public_key, secret_key


def _is_public_key(value: str) -> bool:
    """Only what `create_key` issues (`pk-lf-<uuid>`, printable ASCII within the column's 64) is looked up: a NUL or
    a 10 kB name is the same 401 as an unknown key, without a query the database would refuse."""
    return len(value) <= 64 and value.isascii() and value.isprintable()
