"""The course tree's response bytes, kept per process and keyed by the course's content version.

Every change to a course's modules and items (and to the name of a content type it uses) raises
`courses.content_version` in the same transaction, by triggers in the database (migration 0005): a tree built from
content at version v is served to the next readers of version v and never after, whoever changed the content and
from whichever process — nothing has to be told to invalidate. The reader's view is part of the key (staff see
unpublished modules, students do not), so one view is never served to the other.

A reader that raced a writer may store a newer tree under the older version it read (READ COMMITTED: the course
row, then the content): harmless, since the writer's commit moved the version on. Memory is bounded by the bytes
held; the least recently used trees go first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # a 10,000-item tree is about 3 MB of JSON


class TreeKey(NamedTuple):
    course_id: int
    content_version: int
    staff_view: bool


class TreeCache:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._trees: OrderedDict[TreeKey, bytes] = OrderedDict()
        self._bytes = 0

    def get(self, key: TreeKey) -> bytes | None:
        body = self._trees.get(key)
        if body is not None:
            self._trees.move_to_end(key)
        return body

    def put(self, key: TreeKey, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        old = self._trees.pop(key, None)
        if old is not None:
            self._bytes -= len(old)
        # Older versions of this course's tree are never asked for again: drop them now rather than by age.
        for stale in [k for k in self._trees if k.course_id == key.course_id and k.staff_view == key.staff_view]:
            self._bytes -= len(self._trees.pop(stale))
        self._trees[key] = body
        self._bytes += len(body)
        while self._bytes > self.max_bytes:
            _, evicted = self._trees.popitem(last=False)
            self._bytes -= len(evicted)

    def clear(self) -> None:
        self._trees.clear()
        self._bytes = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._trees)
