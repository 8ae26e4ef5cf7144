"""Pure text work on prompt content: `{{variable}}` compilation, chat placeholders, composition tags.

These follow the Langfuse SDK and server exactly: a variable is whatever sits between `{{` and the next `}}`,
stripped; unknown variables are left as written; a composition tag is `@@@langfusePrompt:name=X|version=N@@@` or
`@@@langfusePrompt:name=X|label=L@@@`, and anything else between `@@@langfusePrompt:` and `@@@` stays as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

OPENING = "{{"
CLOSING = "}}"
TAG_PATTERN = re.compile(r"@@@langfusePrompt:(.*?)@@@")
LABEL_PATTERN = re.compile(r"^[a-z0-9_.\-]{1,36}$")
PLACEHOLDER = "placeholder"

ChatMessage = dict[str, Any]
Content = str | list[ChatMessage]


def _variables(content: str) -> Iterator[tuple[str, int, int]]:
    index = 0
    while True:
        start = content.find(OPENING, index)
        if start == -1:
            return
        end = content.find(CLOSING, start)
        if end == -1:
            return
        yield content[start + len(OPENING) : end].strip(), start, end + len(CLOSING)
        index = end + len(CLOSING)


def variable_names(content: str) -> list[str]:
    return [name for name, _, _ in _variables(content)]


def compile_text(content: str, variables: Mapping[str, Any]) -> str:
    """Substitute known variables (None becomes ""); unknown ones stay as written."""
    out: list[str] = []
    index = 0
    for name, start, end in _variables(content):
        out.append(content[index:start])
        if name in variables:
            value = variables[name]
            out.append("" if value is None else str(value))
        else:
            out.append(content[start:end])
        index = end
    out.append(content[index:])
    return "".join(out)


def is_placeholder(message: Mapping[str, Any]) -> bool:
    return message.get("type") == PLACEHOLDER


def chat_variable_names(messages: list[ChatMessage]) -> list[str]:
    names: list[str] = []
    for message in messages:
        if not is_placeholder(message) and isinstance(message.get("content"), str):
            names.extend(variable_names(message["content"]))
    return names


def placeholder_names(messages: list[ChatMessage]) -> list[str]:
    return [str(m["name"]) for m in messages if is_placeholder(m)]


def content_variable_names(content: Content) -> list[str]:
    """Distinct variable names, in order of first appearance."""
    names = variable_names(content) if isinstance(content, str) else chat_variable_names(content)
    return list(dict.fromkeys(names))


def compile_chat(
    messages: list[ChatMessage], variables: Mapping[str, Any], placeholders: Mapping[str, list[ChatMessage]]
) -> list[ChatMessage]:
    """Fill placeholders with their message lists, then substitute variables in every message's content.

    An unfilled placeholder stays in the output as written (as the SDK does).
    """
    out: list[ChatMessage] = []
    for message in messages:
        if is_placeholder(message):
            name = message["name"]
            if name not in placeholders:
                out.append(dict(message))
                continue
            for filled in placeholders[name]:
                compiled = dict(filled)
                compiled["content"] = compile_text(str(filled.get("content", "")), variables)
                out.append(compiled)
            continue
        compiled = dict(message)
        compiled["content"] = compile_text(str(message.get("content", "")), variables)
        out.append(compiled)
    return out


@dataclass(frozen=True)
class DependencyTag:
    """What a well-formed composition tag references: a version or a label of a prompt name."""

    name: str
    version: int | None = None
    label: str | None = None

    def describe(self) -> str:
        return (
            f"{self.name} - version {self.version}" if self.version is not None else f"{self.name} - label {self.label}"
        )


def _parse_tag(inner: str) -> DependencyTag | None:
    parts = inner.split("|")
    if len(parts) != 2 or not parts[0].startswith("name="):
        return None
    params: dict[str, str] = {}
    for part in parts:
        key, _, value = part.partition("=")
        params[key] = value.split("=")[0]
    name = params.get("name", "")
    if not name:
        return None
    if "version" in params:
        version = params["version"]
        if not version.isdigit() or not 1 <= int(version) <= 2_147_483_647:
            return None
        return DependencyTag(name=name, version=int(version))
    label = params.get("label")
    if label is None or not LABEL_PATTERN.match(label):
        return None
    return DependencyTag(name=name, label=label)


def _strings(content: Content) -> Iterator[str]:
    if isinstance(content, str):
        yield content
        return
    for message in content:
        for value in message.values():
            if isinstance(value, str):
                yield value


def dependency_tags(content: Content) -> dict[DependencyTag, list[str]]:
    """Each well-formed reference (in order of appearance) with the exact tag texts that spell it."""
    found: dict[DependencyTag, list[str]] = {}
    for text in _strings(content):
        for match in TAG_PATTERN.finditer(text):
            tag = _parse_tag(match.group(1))
            if tag is not None:
                raws = found.setdefault(tag, [])
                if match.group(0) not in raws:
                    raws.append(match.group(0))
    return found


def replace_tags(content: Content, raws: list[str], replacement: str) -> Content:
    def sub(text: str) -> str:
        for raw in raws:
            text = text.replace(raw, replacement)
        return text

    if isinstance(content, str):
        return sub(content)
    return [{k: sub(v) if isinstance(v, str) else v for k, v in m.items()} for m in content]
