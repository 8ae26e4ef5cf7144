"""Nesting flat module and item rows into a tree, in Python (the rows come from two flat queries).

The nodes are plain dicts serialized once by orjson: a 10,000-item tree is the hot path the bench measures, and
building a Pydantic model per row and then validating the whole tree again for `response_model` cost several
times the queries themselves. The shape is `CourseTree` in schemas.py (still the documented response model);
tests/content/test_course_tree.py checks it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from fastapi import Response


def build_tree(
    module_rows: Iterable[Sequence[Any]], item_rows: Iterable[Sequence[Any]], *, include_unpublished: bool
) -> dict[str, Any] | None:
    """The root node with its published (or, for staff, all) descendants; None if the course has no root.

    `module_rows`: (id, parent_module_id, title, description, module_type, sequence_index, depth, is_published),
    siblings in order (sequence_index, id). `item_rows`: (id, module_id, title, content type name,
    content_type_id, sequence_index, duration), each module's items in order. The repository sorts both.
    An unpublished module hides its whole subtree from students: descent stops at it.
    """
    children: dict[int | None, list[Sequence[Any]]] = defaultdict(list)
    for row in module_rows:
        children[row[1]].append(row)
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in item_rows:
        items[r[1]].append(
            {
                "id": r[0],
                "title": r[2],
                "content_type": r[3],
                "content_type_id": r[4],
                "sequence_index": r[5],
                "estimated_duration_seconds": r[6],
            }
        )
    roots = children.get(None)
    if not roots:
        return None

    def node(row: Sequence[Any]) -> dict[str, Any]:
        return {
            "id": row[0],
            "parent_module_id": row[1],
            "title": row[2],
            "description": row[3],
            "module_type": row[4],
            "sequence_index": row[5],
            "depth": row[6],
            "is_published": row[7],
            "content_items": items.get(row[0], []),
            "children": [],
        }

    root = node(roots[0])
    # Iterative, so a deep tree cannot hit the recursion limit.
    stack = [root]
    while stack:
        parent = stack.pop()
        for row in children.get(parent["id"], []):
            if not row[7] and not include_unpublished:
                continue
            child = node(row)
            parent["children"].append(child)
            stack.append(child)
    return root


def json_response(document: dict[str, Any]) -> Response:
    return Response(orjson.dumps(document), media_type="application/json")
