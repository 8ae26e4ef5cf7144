"""walk_modules (content/tree.py): the one walk of a course's flat module rows behind both the course tree and a
student's progress tree."""

from __future__ import annotations

from twosigma.content.repository import ModuleRow
from twosigma.content.tree import walk_modules
from twosigma.enums import ModuleType


def row(module_id: int, parent: int | None, published: bool = True) -> ModuleRow:
    return ModuleRow(
        id=module_id,
        parent_module_id=parent,
        title=f"m{module_id}",
        description=None,
        module_type=ModuleType.UNIT,
        sequence_index=0,
        depth=0,
        is_published=published,
    )


ROWS = [
    row(1, None),
    row(2, 1),
    row(3, 1, published=False),
    row(4, 1),
    row(5, 2),
    row(6, 3),  # under the unpublished module
    row(7, 4),
]


def ids(order: list[tuple[ModuleRow, int | None]]) -> list[tuple[int, int | None]]:
    return [(r["id"], parent) for r, parent in order]


def test_the_root_comes_first_then_each_level_with_siblings_in_row_order() -> None:
    assert ids(walk_modules(ROWS, include_unpublished=True)) == [
        (1, None),
        (2, 1),
        (3, 1),
        (4, 1),
        (5, 2),
        (6, 3),
        (7, 4),
    ]


def test_an_unpublished_module_hides_its_whole_subtree_unless_staff() -> None:
    assert ids(walk_modules(ROWS, include_unpublished=False)) == [(1, None), (2, 1), (4, 1), (5, 2), (7, 4)]


def test_the_root_is_included_even_unpublished_and_no_root_is_nothing() -> None:
    assert ids(walk_modules([row(1, None, published=False), row(2, 1)], include_unpublished=False)) == [
        (1, None),
        (2, 1),
    ]
    assert walk_modules([], include_unpublished=True) == []
    assert walk_modules([row(2, 1)], include_unpublished=True) == []  # an orphan is no root


def test_a_deep_chain_is_walked_without_recursion() -> None:
    chain = [row(1, None)] + [row(i, i - 1) for i in range(2, 20_001)]
    order = walk_modules(chain, include_unpublished=False)
    assert len(order) == 20_000
    assert ids(order)[-1] == (20_000, 19_999)
