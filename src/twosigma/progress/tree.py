"""The caller's progress tree, built in Python from flat rows; percents computed the same way as the roll-up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from twosigma.content.repository import ItemSummaryRow, ModuleRow
from twosigma.content.tree import walk_modules
from twosigma.progress.models import UserContentProgress
from twosigma.progress.schemas import ItemProgressNode, ModuleProgressNode


def build_progress_tree(
    modules: Iterable[ModuleRow],
    items: Iterable[ItemSummaryRow],
    progress: Mapping[int, UserContentProgress],
    completions: Mapping[int, datetime | None],
) -> ModuleProgressNode | None:
    """Published modules only; a module's percent is the floor of the mean over the items of its published
    subtree (no row → 0), exactly as `repository.roll_up` stores it, but computed live so it follows edits of the
    tree made since the student's last write."""
    items_of: dict[int, list[ItemProgressNode]] = defaultdict(list)
    for it in items:
        got = progress.get(it[0])
        items_of[it[1]].append(
            ItemProgressNode(
                id=it[0],
                title=it[2],
                content_type=it[3],
                sequence_index=it[5],
                estimated_duration_seconds=it[6],
                progress_percent=got.progress_percent if got else 0,
                attempts_count=got.attempts_count if got else 0,
                completed_at=got.completed_at if got else None,
                last_interacted_at=got.last_interacted_at if got else None,
            )
        )
    order = walk_modules(modules, include_unpublished=False)
    if not order or not order[0][0][7]:  # no root, or an unpublished one: nothing a student can see
        return None
    totals: dict[int, list[int]] = {}
    nodes: dict[int, ModuleProgressNode] = {}
    for row, _ in order:
        own = sorted(items_of.get(row[0], []), key=lambda i: (i.sequence_index, i.id))
        totals[row[0]] = [sum(i.progress_percent for i in own), len(own)]
        nodes[row[0]] = ModuleProgressNode(
            id=row[0],
            title=row[2],
            module_type=row[4],
            sequence_index=row[5],
            depth=row[6],
            progress_percent=0,
            completed_at=completions.get(row[0]),
            content_items=own,
            children=[],
        )
    for row, parent_id in reversed(order):
        total, count = totals[row[0]]
        nodes[row[0]].progress_percent = total // count if count else 0
        if parent_id is not None:
            totals[parent_id][0] += total
            totals[parent_id][1] += count
    for row, parent_id in order:
        if parent_id is not None:
            nodes[parent_id].children.append(nodes[row[0]])  # breadth first: siblings arrive in row order
    return nodes[order[0][0][0]]
