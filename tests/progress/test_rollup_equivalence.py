"""The roll-up statement (progress/rollup.py) against a brute-force mean, on random trees.

The statement computes the root differently from the modules below it (the course's items and the user's rows,
minus what hangs under unpublished modules, instead of a walk): random trees with nested unpublished modules,
progress rows under them, and a classmate's rows check that both ways give the rule of the spec exactly — the floor
of the mean over every item of the published subtree, items without a row counting as 0.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.content import make_classroom, make_content_item, make_enrollment, make_module, root_of
from tests.fixtures.factories import make_member
from twosigma.content.models import Module
from twosigma.enums import UserRole
from twosigma.progress import repository as repo
from twosigma.progress.models import UserContentProgress


def brute_force(
    ancestor: int,
    children: dict[int, list[Module]],
    items_of: dict[int, list[int]],
    rows: dict[int, int],
) -> int:
    visible, stack = [], [ancestor]
    while stack:
        module_id = stack.pop()
        visible.append(module_id)
        stack.extend(child.id for child in children.get(module_id, []) if child.is_published)
    items = [item for module_id in visible for item in items_of.get(module_id, [])]
    return sum(rows.get(item, 0) for item in items) // len(items) if items else 0


@pytest.mark.parametrize("seed", range(8))
async def test_every_ancestor_is_the_floor_of_the_mean_of_its_published_subtree(db: AsyncSession, seed: int) -> None:
    rng = random.Random(seed)
    room = await make_classroom(db)
    offering = room.campus.offering
    classmate = await make_member(db, room.campus.university, UserRole.STUDENT)
    await make_enrollment(db, user=classmate, offering=offering)
    root = await root_of(db, room.course)

    modules, children = [root], {}
    for _ in range(rng.randint(4, 24)):
        parent = rng.choice([m for m in modules if m.depth < 6])
        module = await make_module(db, parent=parent, is_published=rng.random() > 0.3)
        modules.append(module)
        children.setdefault(parent.id, []).append(module)
    items_of: dict[int, list[int]] = {}
    for _ in range(rng.randint(8, 50)):
        module = rng.choice(modules)
        item = await make_content_item(db, module=module, content_type=room.content_type)
        items_of.setdefault(module.id, []).append(item.id)
    all_items = [item for items in items_of.values() for item in items]
    rows = {item: rng.randint(0, 100) for item in rng.sample(all_items, rng.randint(0, len(all_items)))}
    for item, percent in rows.items():  # under unpublished modules too (written before they were unpublished)
        db.add(
            UserContentProgress(
                user_id=room.enrolled.id, course_offering_id=offering.id, content_item_id=item, progress_percent=percent
            )
        )
    for item in rng.sample(all_items, len(all_items) // 2):  # a classmate's rows must not count
        db.add(
            UserContentProgress(
                user_id=classmate.id, course_offering_id=offering.id, content_item_id=item, progress_percent=100
            )
        )
    await db.flush()

    for item in rng.sample(all_items, min(6, len(all_items))):
        path = await repo.locate_and_lock(db, item, room.course.id, user_id=room.enrolled.id, offering_id=offering.id)
        assert path is not None
        rolled = await repo.roll_up(
            db,
            user_id=room.enrolled.id,
            offering_id=offering.id,
            course_id=room.course.id,
            path=path,
            now=datetime.now(UTC),
        )
        got = {r.module_id: r.progress_percent for r in rolled}
        assert got == {a: brute_force(a, children, items_of, rows) for a in path.ancestors}
