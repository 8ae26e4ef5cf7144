"""JSON values no column can store, found in a request body before any route sees it.

JSON can spell things PostgreSQL and UTF-8 cannot hold: `\\u0000` (text and jsonb refuse the NUL character), an
unpaired surrogate such as `\\ud800` (not Unicode at all: encoding it to UTF-8 fails, so a `json`/`jsonb` column,
a prompt's compiled text or the response raised deep inside a route), and NaN, Infinity or a number beyond a double
(Python's parser accepts them; they are not JSON and jsonb refuses them). `unstorable_values` names where each one
is, keys included, without echoing it; the body guard (kit/security.py) answers 422 `validation_error` with those
locations for every JSON body of every route.

Cheap for the bodies that hold none of these: one regular-expression scan of the raw bytes, and the body is parsed
only when the scan finds a candidate (an escape of U+0000 or of a surrogate, NaN, Infinity, a long number).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Candidates only: an escaped backslash before `u0000`, a valid surrogate pair or a finite 1e300 also match, and the
# parse below decides.
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|NaN|Infinity|[eE][+]?\d{3}|\d{309}")
_UNSTORABLE_CHAR = re.compile("[\x00\ud800-\udfff]")
# Keys on the way to a value are named in its location, cut to this length.
KEY_SHOWN = 64
MAX_REPORTED = 10


class _NonFinite:
    """What NaN, Infinity and numbers beyond a double parse to here."""


_NON_FINITE = _NonFinite()


class _Found:
    def __init__(self, problem: dict[str, str]) -> None:
        self.problem = problem


def _constant(_: str) -> _NonFinite:
    return _NON_FINITE


def _float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NON_FINITE


def _string_problem(value: str) -> dict[str, str] | None:
    match = _UNSTORABLE_CHAR.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return {"msg": "Text may not contain the NUL character (U+0000): it cannot be stored.", "type": "string_nul"}
    return {
        "msg": "Text may not contain an unpaired surrogate (U+D800 to U+DFFF): it is not valid Unicode.",
        "type": "string_unpaired_surrogate",
    }


_NUMBER_PROBLEM = {
    "msg": "Numbers must be finite: NaN, Infinity and values beyond a double are not JSON.",
    "type": "number_not_finite",
}


def _shown_key(key: str) -> str:
    return key if len(key) <= KEY_SHOWN else key[:KEY_SHOWN] + "…"


def unstorable_values(body: bytes) -> list[dict[str, Any]]:
    """`[{"loc": ["body", ...], "msg", "type"}]` for each unstorable value in `body` (at most MAX_REPORTED), in
    document order; a bad key is located as its object followed by `"[key]"`. Empty when there is none, or when the
    body is not JSON (the route's parser reports that). Callers bound the nesting depth first (kit/security.py)."""
    if json.detect_encoding(body).startswith("utf-8") and _SUSPECT.search(body) is None:
        return []
    try:
        document = json.loads(body, parse_constant=_constant, parse_float=_float)
    except (ValueError, RecursionError):
        return []
    found: list[dict[str, Any]] = []
    # Depth first, in document order; a bad key is pushed as its problem (a `_Found`), not walked into.
    stack: list[tuple[list[str], Any]] = [(["body"], document)]
    while stack and len(found) < MAX_REPORTED:
        loc, value = stack.pop()
        if isinstance(value, _Found):
            found.append({"loc": loc, **value.problem})
        elif isinstance(value, str):
            problem = _string_problem(value)
            if problem is not None:
                found.append({"loc": loc, **problem})
        elif value is _NON_FINITE:
            found.append({"loc": loc, **_NUMBER_PROBLEM})
        elif isinstance(value, dict):
            children: list[tuple[list[str], Any]] = []
            for key, child in value.items():
                key_problem = _string_problem(key)
                if key_problem is None:
                    children.append(([*loc, _shown_key(key)], child))
                else:
                    children.append(([*loc, "[key]"], _Found(key_problem)))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([([*loc, str(index)], child) for index, child in enumerate(value)]))
    return found
