"""Integer path and query parameters, bounded by the column they are compared with.

A value the column cannot hold (an id beyond int4, zero, a negative number) is a 422 `validation_error` from request
validation, before any query runs, and the OpenAPI document shows the bounds (`minimum`, `maximum`), so clients and
fuzzers know them. Every router takes its ids from here; `tests/reliability/test_fuzz_regressions.py` walks the
document and fails for any integer path or query parameter without both bounds.

Ids are `integer` (int4) columns everywhere an id reaches a route; `BigIdPath`/`BigIdQuery` are for `bigint` ids
(the prompt tables' own ids are bigint, but no route takes them).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

INT4_MAX = 2_147_483_647
BIGINT_MAX = 9_223_372_036_854_775_807

# An id (or a prompt version) in the path: 1..2^31-1.
IdPath = Annotated[int, Path(ge=1, le=INT4_MAX)]
# An optional id filter in the query string.
IdQuery = Annotated[int | None, Query(ge=1, le=INT4_MAX)]
BigIdPath = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
BigIdQuery = Annotated[int | None, Query(ge=1, le=BIGINT_MAX)]
