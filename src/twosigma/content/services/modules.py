"""Module tree rules: insert, edit, delete and move modules, keeping siblings contiguous and depths right.

Out-of-range sequence_index is refused (422 `sequence_index_out_of_range`, the allowed maximum in details) rather
than clamped: a client that asks for position 7 among 3 siblings has a stale view, and silently putting the module
elsewhere would hide that.
"""

from __future__ import annotations

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz.access.content import CourseAccess
from twosigma.content import repository as repo
from twosigma.content.models import Module
from twosigma.content.schemas import MAX_DEPTH, ModuleCreate, ModuleMove, ModuleUpdate
from twosigma.content.tree import build_tree
from twosigma.content.tree_cache import TreeCache, TreeKey
from twosigma.courses.models import Course
from twosigma.enums import ModuleType
from twosigma.governance.services import policy as governance_policy
from twosigma.kit.errors import Conflict, Invalid, NotFound, not_found
from twosigma.retrieval.services import indexing
from twosigma.system_settings.effective import EffectiveSettings


class RootModule(Conflict):
    code = "root_module"


class ModuleCycle(Conflict):
    code = "module_cycle"


class DepthLimit(Conflict):
    code = "depth_limit"


def out_of_range(index: int, maximum: int) -> Invalid:
    return Invalid(
        f"sequence_index {index} is out of range; the largest allowed here is {maximum}.",
        code="sequence_index_out_of_range",
        details={"sequence_index": index, "max": maximum},
    )


def _depth_limit(depth: int) -> DepthLimit:
    return DepthLimit(
        f"Modules may be nested at most {MAX_DEPTH} levels below the course root; this would reach depth {depth}.",
        details={"max_depth": MAX_DEPTH, "depth": depth},
    )


async def _parent_in_course(session: AsyncSession, course_id: int, parent_id: int) -> Module:
    parent = await repo.get_module(session, parent_id)
    if parent is None or parent.course_id != course_id:
        raise Invalid(
            "The parent must be a module of the same course.",
            code="invalid_parent",
            details=[{"loc": ["body", "parent_module_id"], "msg": "not a module of this course", "type": "invalid"}],
        )
    return parent


async def create_root_module(session: AsyncSession, course: Course) -> Module:
    """The root of a new course's tree. Every course has exactly one; it is published so the tree of a published
    course is visible, and publishing is then decided by the course's own flag and the modules below the root."""
    root = Module(
        course_id=course.id,
        parent_module_id=None,
        title=course.title,
        module_type=ModuleType.COURSE_ROOT,
        sequence_index=0,
        depth=0,
        is_published=True,
    )
    session.add(root)
    await session.flush()
    return root


async def create_module(session: AsyncSession, course: Course, body: ModuleCreate) -> Module:
    await repo.lock_course_content(session, course.id)
    if body.parent_module_id is None:
        parent = await repo.get_root(session, course.id)
        if parent is None:  # every course gets a root when created; only a broken data set lacks one
            raise Conflict("The course has no root module.", code="root_missing")
    else:
        parent = await _parent_in_course(session, course.id, body.parent_module_id)
    depth = parent.depth + 1
    if depth > MAX_DEPTH:
        raise _depth_limit(depth)
    count = await repo.child_count(session, parent.id)
    index = count if body.sequence_index is None else body.sequence_index
    if index > count:
        raise out_of_range(index, count)
    await repo.shift_children(session, parent.id, index, +1, skip_id=0)
    module = Module(
        course_id=course.id,
        parent_module_id=parent.id,
        title=body.title,
        description=body.description,
        module_type=body.module_type,
        sequence_index=index,
        depth=depth,
        is_published=body.is_published,
    )
    session.add(module)
    await session.flush()
    return module


async def update_module(session: AsyncSession, module: Module, body: ModuleUpdate) -> Module:
    changes = body.model_dump(exclude_unset=True)
    if module.module_type is ModuleType.COURSE_ROOT:
        if changes.get("module_type", ModuleType.COURSE_ROOT) is not ModuleType.COURSE_ROOT:
            raise RootModule("The course root's type cannot change.")
        if changes.get("is_published") is False:
            raise RootModule("The course root is always published; unpublish the course instead.")
    published_before = module.is_published
    for name, value in changes.items():
        setattr(module, name, value)
    await session.flush()
    if module.is_published != published_before:
        # Publishing or unpublishing a module does so for every item under it: the course index follows at once.
        await indexing.index_module(session, module.id)
    return module


async def delete_module(session: AsyncSession, module: Module) -> None:
    """The subtree and its items go with it (ON DELETE CASCADE); later siblings close up."""
    if module.parent_module_id is None:
        raise RootModule("The course root cannot be deleted; delete the course instead.")
    await repo.lock_course_content(session, module.course_id)
    current = await repo.get_module(session, module.id)
    if current is None:
        raise not_found("Module")
    parent_id, index = current.parent_module_id, current.sequence_index
    assert parent_id is not None
    await session.delete(current)
    await session.flush()
    await repo.shift_children(session, parent_id, index + 1, -1, skip_id=current.id)


async def move_module(session: AsyncSession, module: Module, body: ModuleMove) -> Module:
    if module.parent_module_id is None:
        raise RootModule("The course root cannot be moved.")
    await repo.lock_course_content(session, module.course_id)
    current = await repo.get_module(session, module.id)  # re-read under the lock
    if current is None or current.parent_module_id is None:
        raise not_found("Module")
    new_parent = await _parent_in_course(session, current.course_id, body.parent_module_id)
    info = await repo.subtree_info(session, current.id, new_parent.id)
    if info.contains:
        raise ModuleCycle(
            "A module cannot be moved under itself or one of its descendants.",
            details={"module_id": current.id, "parent_module_id": new_parent.id},
        )
    new_depth = new_parent.depth + 1
    deepest = info.max_depth - current.depth + new_depth
    if deepest > MAX_DEPTH:
        raise _depth_limit(deepest)
    same_parent = new_parent.id == current.parent_module_id
    siblings = await repo.child_count(session, new_parent.id)
    maximum = siblings - 1 if same_parent else siblings
    if body.sequence_index > maximum:
        raise out_of_range(body.sequence_index, maximum)
    await repo.shift_children(session, current.parent_module_id, current.sequence_index + 1, -1, skip_id=current.id)
    await repo.shift_children(session, new_parent.id, body.sequence_index, +1, skip_id=current.id)
    current.parent_module_id = new_parent.id
    current.sequence_index = body.sequence_index
    await session.flush()
    if new_depth != current.depth:
        await repo.recompute_depths(session, current.id, new_depth)
    await session.refresh(current)
    # Under a new parent, the subtree's items may have become published or unpublished.
    await indexing.index_module(session, current.id)
    return current


async def course_tree(
    session: AsyncSession, access: CourseAccess, cache: TreeCache, effective: EffectiveSettings
) -> bytes:
    """The tree's JSON: from `cache` while the course's content is at the version the caller's course row holds;
    otherwise one query whatever the size (modules and item summaries in one UNION ALL), nested in Python. Plus
    `tutor_enabled`, the course's tutor policy now (one query; not cached: a policy change shows at once)."""
    key = TreeKey(access.course.id, access.course.content_version, access.staff_view)
    body = cache.get(key)
    if body is None:
        modules, items = await repo.course_tree_rows(session, access.course.id)
        root = build_tree(modules, items, include_unpublished=access.staff_view)
        if root is None:
            raise NotFound("The course has no module tree.", code="root_missing")
        # Plain dicts serialized once (no per-row model); the shape is schemas.CourseTree.
        body = orjson.dumps({"course_id": access.course.id, "root": root})
        cache.put(key, body)
    enabled = await governance_policy.tutor_enabled_for_course(session, effective, access.course)
    # The cached object's closing brace makes room for the one field that is not cached.
    return body[:-1] + (b',"tutor_enabled":true}' if enabled else b',"tutor_enabled":false}')
