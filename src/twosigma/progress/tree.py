"""The caller's progress tree, built in Python from flat rows; percents computed the same way as the roll-up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from twosigma.content.repository import ItemRow, ModuleRow
from twosigma.content.tree import walk_modules
from twosigma.progress.models import UserContentProgress
from twosigma.progress.schemas import ItemProgressNode, ModuleProgressNode


def build_progress_tree(
    modules: Iterable[ModuleRow],
    items: Iterable[ItemRow],
    progress: Mapping[int, UserContentProgress],
    completions: Mapping[int, datetime | None],
) -> ModuleProgressNode | None:
    """Published modules only; a module's percent is the floor of the mean over the items of its published
    subtree (no row → 0), exactly as `repository.roll_up` stores it, but computed live so it follows edits of the
    tree made since the student's last write."""
    items_of: dict[int, list[ItemProgressNode]] = defaultdict(list)
    for it in items:
        got = progress.get(it["id"])
        items_of[it["module_id"]].append(
            ItemProgressNode(
                id=it["id"],
                title=it["title"],
                content_type=it["content_type"],
                sequence_index=it["sequence_index"],
                estimated_duration_seconds=it["estimated_duration_seconds"],
                progress_percent=got.progress_percent if got else 0,
                attempts_count=got.attempts_count if got else 0,
                completed_at=got.completed_at if got else None,
                last_interacted_at=got.last_interacted_at if got else None,
            )
        )
    order = walk_modules(modules, include_unpublished=False)
    if not order:
        return None  # no root
    root, _ = order[0]
    if not root["is_published"]:
        return None  # an unpublished root: nothing a student can see
    totals: dict[int, list[int]] = {}
    nodes: dict[int, ModuleProgressNode] = {}
    for row, _ in order:
        module_id = row["id"]
        own = sorted(items_of.get(module_id, []), key=lambda i: (i.sequence_index, i.id))
        totals[module_id] = [sum(i.progress_percent for i in own), len(own)]
        nodes[module_id] = ModuleProgressNode(
            id=module_id,
            title=row["title"],
            module_type=row["module_type"],
            sequence_index=row["sequence_index"],
            depth=row["depth"],
            progress_percent=0,
            completed_at=completions.get(module_id),
            content_items=own,
            children=[],
        )
    for row, parent_id in reversed(order):
        total, count = totals[row["id"]]
        nodes[row["id"]].progress_percent = total // count if count else 0
        if parent_id is not None:
            totals[parent_id][0] += total
            totals[parent_id][1] += count
    for row, parent_id in order:
        if parent_id is not None:
            nodes[parent_id].children.append(nodes[row["id"]])  # breadth first: siblings arrive in row order
    return nodes[root["id"]]
