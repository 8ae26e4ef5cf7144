"""An item as indexed text, and that text cut into chunks of at most `MAX_CHUNK_CHARS` characters.

The text is what a student may read of the item: its title, description, learning objectives, and the string
values of its `data_json` as `assessments.views.item_data_for` gives them to a reader without the keys (reading
bodies, transcripts, instructions, quiz questions and choices — never a key or an explanation). Cuts fall on
paragraph, then sentence, then word boundaries; a single word longer than a chunk is cut where it must be.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from twosigma.retrieval.models import MAX_CHUNK_CHARS

# Keys whose strings are addresses or identifiers, not prose: indexing them would only add noise.
_NOT_PROSE = frozenset({"id", "type", "url", "src", "href", "image", "image_url", "video_url", "mime_type", "format"})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SPACES = re.compile(r"[ \t\r\f\v]+")


def _strings(value: Any, key: str | None = None) -> Iterator[str]:
    if isinstance(value, str):
        if key not in _NOT_PROSE and value.strip():
            yield value.strip()
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _strings(item, str(name))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)


def item_text(description: str | None, objectives: list[Any], student_data: Any) -> str:
    """The body of an item's document (its title is indexed with every chunk, see repository.py)."""
    parts: list[str] = []
    if description and description.strip():
        parts.append(description.strip())
    goals = [str(goal).strip() for goal in objectives if str(goal).strip()]
    if goals:
        parts.append("Learning objectives: " + "; ".join(goals))
    parts.extend(_strings(student_data))
    return "\n\n".join(parts)


def _pieces(text: str, limit: int) -> Iterator[str]:
    """`text` in pieces of at most `limit` characters, cut at the coarsest boundary that fits."""
    for paragraph in re.split(r"\n\s*\n|\n", text):
        paragraph = _SPACES.sub(" ", paragraph).strip()
        if not paragraph:
            continue
        if len(paragraph) <= limit:
            yield paragraph
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            if len(sentence) <= limit:
                yield sentence
                continue
            line = ""
            for word in sentence.split(" "):
                while len(word) > limit:
                    if line:
                        yield line
                        line = ""
                    yield word[:limit]
                    word = word[limit:]
                if line and len(line) + 1 + len(word) > limit:
                    yield line
                    line = ""
                line = f"{line} {word}" if line else word
            if line:
                yield line


def split(text: str, limit: int = MAX_CHUNK_CHARS) -> list[str]:
    """Consecutive pieces packed into chunks of at most `limit` characters (no chunk is empty)."""
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        if current and len(current) + 1 + len(piece) > limit:
            chunks.append(current)
            current = ""
        current = f"{current}\n{piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks
