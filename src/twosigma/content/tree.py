"""Nesting flat module and item rows (read by column name) into a tree, in Python.

The nodes are plain dicts serialized once by orjson: a 10,000-item tree is the hot path the bench measures, and
building a Pydantic model per row and then validating the whole tree again for `response_model` cost several
times the queries themselves. The shape is `CourseTree` in schemas.py (still the documented response model);
tests/content/test_course_tree.py checks it.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from typing import Any

from twosigma.content.repository import ItemRow, ModuleRow


def walk_modules(module_rows: Iterable[ModuleRow], *, include_unpublished: bool) -> list[tuple[ModuleRow, int | None]]:
    """The course's module tree as flat rows: (row, parent id), the root first, every parent before its children
    and siblings in row order (breadth first, without recursion, so depth is no limit). Empty if there is no root.

    `module_rows`: siblings in order. The root is always included; below it an unpublished module hides its whole
    subtree unless `include_unpublished` (staff). Both trees the API builds from flat rows walk them here: the
    course tree and a student's progress tree.
    """
    children: dict[int | None, list[ModuleRow]] = defaultdict(list)
    for row in module_rows:
        children[row["parent_module_id"]].append(row)
    roots = children.get(None)
    if not roots:
        return []
    order: list[tuple[ModuleRow, int | None]] = []
    queue: deque[tuple[ModuleRow, int | None]] = deque([(roots[0], None)])
    while queue:
        row, parent_id = queue.popleft()
        order.append((row, parent_id))
        queue.extend(
            (child, row["id"]) for child in children.get(row["id"], ()) if include_unpublished or child["is_published"]
        )
    return order


def build_tree(
    module_rows: Iterable[ModuleRow], item_rows: Iterable[ItemRow], *, include_unpublished: bool
) -> dict[str, Any] | None:
    """The root node with its published (or, for staff, all) descendants; None if the course has no root.

    `module_rows`: siblings in order (sequence_index, id). `item_rows`: each module's items in order. The
    repository sorts both. An unpublished module hides its whole subtree from students: descent stops at it.
    """
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in item_rows:
        items[item["module_id"]].append(
            {
                "id": item["id"],
                "title": item["title"],
                "content_type": item["content_type"],
                "content_type_id": item["content_type_id"],
                "sequence_index": item["sequence_index"],
                "estimated_duration_seconds": item["estimated_duration_seconds"],
            }
        )
    nodes: dict[int, dict[str, Any]] = {}
    for row, parent_id in walk_modules(module_rows, include_unpublished=include_unpublished):
        node = nodes[row["id"]] = {
            "id": row["id"],
            "parent_module_id": row["parent_module_id"],
            "title": row["title"],
            "description": row["description"],
            "module_type": row["module_type"],
            "sequence_index": row["sequence_index"],
            "depth": row["depth"],
            "is_published": row["is_published"],
            "content_items": items.get(row["id"], []),
            "children": [],
        }
        if parent_id is not None:
            nodes[parent_id]["children"].append(node)  # breadth first: siblings arrive in row order
    return next(iter(nodes.values()), None)
