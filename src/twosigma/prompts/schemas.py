"""Prompt schemas. One set of models serves both routers: the public (Langfuse) API renders them by alias
(camelCase, as Langfuse does); the v1 API renders them by field name (snake_case, as the rest of /api/v1 does).
Inputs accept either spelling."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic.alias_generators import to_camel

from twosigma.kit.pagination import Page
from twosigma.prompts.templates import LABEL_PATTERN

LATEST = "latest"
PRODUCTION = "production"
MAX_NAME_LENGTH = 255
# Path segments that would make a folder-style name ambiguous with the sub-resources of /prompts/{name}.
RESERVED_SEGMENTS = frozenset({"versions", "labels", "diff", "compile"})


def check_prompt_name(name: str) -> str:
    if not name or not name.strip():
        raise ValueError("The prompt name must not be empty.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"The prompt name must be at most {MAX_NAME_LENGTH} characters.")
    if "|" in name:
        raise ValueError("The prompt name must not contain '|' (it separates composition tag parameters).")
    if "@@@" in name:
        raise ValueError("The prompt name must not contain '@@@' (it delimits composition tags).")
    if name.startswith("/") or name.endswith("/") or "//" in name:
        raise ValueError("Folders in a prompt name are separated by single '/' with no leading or trailing '/'.")
    segments = name.split("/")
    if len(segments) > 1 and RESERVED_SEGMENTS & set(segments[1:]):
        raise ValueError(f"A folder-style prompt name may not use the segments {sorted(RESERVED_SEGMENTS)}.")
    return name


def check_label(label: str) -> str:
    if not LABEL_PATTERN.match(label):
        raise ValueError(
            f"Label {label!r} is not valid: 1 to 36 characters of lowercase letters, digits, '_', '.' or '-'."
        )
    return label


def _check_labels(labels: list[str]) -> list[str]:
    for label in labels:
        check_label(label)
    return list(dict.fromkeys(labels))


def _check_tags(tags: list[str] | None) -> list[str] | None:
    if tags is None:
        return None
    for tag in tags:
        if not tag or len(tag) > 100:
            raise ValueError("Tags must be 1 to 100 characters.")
    return list(dict.fromkeys(tags))


PromptName = Annotated[str, AfterValidator(check_prompt_name)]
Labels = Annotated[list[str], AfterValidator(_check_labels)]


class _In(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(min_length=1, max_length=100)
    content: str
    type: Literal["chatmessage", "message"] | None = None


class PlaceholderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["placeholder"]
    name: str = Field(min_length=1, max_length=255)


class PromptCreate(_In):
    # The Langfuse SDK sends every field of its request model; unknown extras are ignored like Langfuse does.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    name: PromptName
    type: Literal["text", "chat"] | None = None
    prompt: str | list[PlaceholderIn | ChatMessageIn]
    config: Any = None
    labels: Labels = Field(default_factory=list)
    tags: Annotated[list[str] | None, AfterValidator(_check_tags)] = None
    commit_message: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _type_matches_content(self) -> PromptCreate:
        if self.type is None:
            self.type = "text" if isinstance(self.prompt, str) else "chat"
        if self.type == "text" and not isinstance(self.prompt, str):
            raise ValueError("A text prompt's `prompt` must be a string.")
        if self.type == "chat" and not isinstance(self.prompt, list):
            raise ValueError("A chat prompt's `prompt` must be a list of messages and placeholders.")
        if self.config is None:
            self.config = {}
        return self

    def content(self) -> str | list[dict[str, Any]]:
        if isinstance(self.prompt, str):
            return self.prompt
        return [m.model_dump(exclude_none=True) for m in self.prompt]


class LabelsUpdate(_In):
    new_labels: Labels


class TagsUpdate(_In):
    tags: Annotated[list[str], AfterValidator(_check_tags)]


class CompileRequest(_In):
    variables: dict[str, Any] = Field(default_factory=dict)
    placeholders: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    strict: bool = False
    version: int | None = Field(default=None, ge=1)
    label: Annotated[str | None, AfterValidator(lambda v: v if v is None else check_label(v))] = None

    @model_validator(mode="after")
    def _one_selector(self) -> CompileRequest:
        if self.version is not None and self.label is not None:
            raise ValueError("Give either `version` or `label`, not both.")
        return self


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class PromptRead(_Out):
    id: int
    name: str
    version: int
    type: Literal["text", "chat"]
    prompt: str | list[dict[str, Any]]
    config: Any
    labels: list[str]
    tags: list[str]
    commit_message: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    resolution_graph: dict[str, Any] | None = None


class PromptMetaRead(_Out):
    name: str
    type: Literal["text", "chat"]
    versions: list[int]
    labels: list[str]
    tags: list[str]
    last_updated_at: datetime
    last_config: Any


class ListMeta(_Out):
    page: int
    limit: int
    total_items: int
    total_pages: int


class PromptMetaList(_Out):
    """Langfuse's list shape: `{data, meta: {page, limit, totalItems, totalPages}}`."""

    data: list[PromptMetaRead]
    meta: ListMeta


class LabelEventRead(_Out):
    id: int
    prompt_name: str
    label: str
    from_version: int | None
    to_version: int | None
    actor: str
    at: datetime


class PromptDiff(_Out):
    name: str
    from_version: int
    to_version: int
    diff: str


class CompiledPrompt(_Out):
    name: str
    version: int
    type: Literal["text", "chat"]
    prompt: str | list[dict[str, Any]]
    config: Any
    labels: list[str]
    variables: list[str]


# --- /api/v1 answers snake_case (`response_model_by_alias=False`), but FastAPI documents a model by its aliases
# whatever that flag says. These twins carry the same fields without the camelCase aliases, so the v1 OpenAPI
# document describes what v1 sends (found by the schemathesis run: `lastUpdatedAt` documented, `last_updated_at`
# sent).


def _snake_twin(model: type[_Out]) -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (info.annotation, ... if info.is_required() else info.default)
        for name, info in model.model_fields.items()
    }
    twin: type[BaseModel] = create_model(
        f"{model.__name__}V1", __config__=ConfigDict(from_attributes=True), __doc__=model.__doc__, **fields
    )
    return twin


PromptReadV1 = _snake_twin(PromptRead)
PromptMetaReadV1 = _snake_twin(PromptMetaRead)
LabelEventReadV1 = _snake_twin(LabelEventRead)
PromptDiffV1 = _snake_twin(PromptDiff)
CompiledPromptV1 = _snake_twin(CompiledPrompt)
# Twins are built at runtime, so mypy cannot take them as type arguments.
PromptMetaPageV1: type[BaseModel] = Page[PromptMetaReadV1]  # type: ignore[valid-type]
LabelEventPageV1: type[BaseModel] = Page[LabelEventReadV1]  # type: ignore[valid-type]
