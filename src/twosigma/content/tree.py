"""Nesting flat module and item rows into a tree, in Python (the rows come from two flat queries).

The nodes are plain dicts serialized once by orjson: a 10,000-item tree is the hot path the bench measures, and
building a Pydantic model per row and then validating the whole tree again for `response_model` cost several
times the queries themselves. The shape is `CourseTree` in schemas.py (still the documented response model);
tests/content/test_course_tree.py checks it.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import orjson
from fastapi import Response

Row = TypeVar("Row", bound=Sequence[Any])


def walk_modules(module_rows: Iterable[Row], *, include_unpublished: bool) -> list[tuple[Row, int | None]]:
    """The course's module tree as flat rows: (row, parent id), the root first, every parent before its children
    and siblings in row order (breadth first, without recursion, so depth is no limit). Empty if there is no root.

    `module_rows`: (id, parent_module_id, …, is_published at index 7), siblings in order. The root is always
    included; below it an unpublished module hides its whole subtree unless `include_unpublished` (staff).
    Both trees the API builds from flat rows walk them here: the course tree and a student's progress tree.
    """
    children: dict[int | None, list[Row]] = defaultdict(list)
    for row in module_rows:
        children[row[1]].append(row)
    roots = children.get(None)
    if not roots:
        return []
    order: list[tuple[Row, int | None]] = []
    queue: deque[tuple[Row, int | None]] = deque([(roots[0], None)])
    while queue:
        row, parent_id = queue.popleft()
        order.append((row, parent_id))
        queue.extend((child, row[0]) for child in children.get(row[0], ()) if include_unpublished or child[7])
    return order


def build_tree(
    module_rows: Iterable[Sequence[Any]], item_rows: Iterable[Sequence[Any]], *, include_unpublished: bool
) -> dict[str, Any] | None:
    """The root node with its published (or, for staff, all) descendants; None if the course has no root.

    `module_rows`: (id, parent_module_id, title, description, module_type, sequence_index, depth, is_published),
    siblings in order (sequence_index, id). `item_rows`: (id, module_id, title, content type name,
    content_type_id, sequence_index, duration), each module's items in order. The repository sorts both.
    An unpublished module hides its whole subtree from students: descent stops at it.
    """
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
    nodes: dict[int, dict[str, Any]] = {}
    for row, parent_id in walk_modules(module_rows, include_unpublished=include_unpublished):
        node = nodes[row[0]] = {
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
        if parent_id is not None:
            nodes[parent_id]["children"].append(node)  # breadth first: siblings arrive in row order
    return next(iter(nodes.values()), None)


def json_response(document: dict[str, Any]) -> Response:
    return Response(orjson.dumps(document), media_type="application/json")
