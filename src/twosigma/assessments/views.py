"""What a reader sees of a content item's `data_json`: the one decision every path that returns item data (and
everything sent to an LLM provider) goes through. docs/assessments.md, "The key never leaves the server"."""

from __future__ import annotations

from typing import Any

from twosigma.assessments.quiz import student_view


def item_data_for(data: Any, *, gradable: bool, answer_keys: bool) -> Any:
    """`data` (an item's `data_json`) as this reader may read it.

    `gradable`: the item's content type is gradable (its data holds a quiz and its keys). `answer_keys`: the reader
    may read the keys — decided by authz (`can_read_answer_keys`: whoever may edit the course), and always False for
    the tutor's snapshot and whatever is sent to an LLM provider. A gradable item read without the keys is its
    student view: no key field and no explanation (those are released only in attempt results, by the quiz's
    feedback policy), whatever shape the stored data has. Other items are returned as stored.

    Never mutates `data`: the student view is a new object, and `data` may be an ORM row's attribute.
    """
    if gradable and not answer_keys:
        return student_view(data)
    return data
