"""Request and response shapes for modules, content items and the course tree."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from twosigma.enums import ModuleType
from twosigma.kit.schemas import ReadSchema, Schema

# The largest a content item's data_json may be, measured as compact UTF-8 JSON.
MAX_DATA_JSON_BYTES = 256 * 1024
# No module may sit deeper than this (the root is depth 0).
MAX_DEPTH = 16
PROMPT_LABEL_PATTERN = r"^[a-z0-9_.-]{1,36}$"


def _reject_nulls(model: BaseModel, nullable: frozenset[str]) -> None:
    for name in model.model_fields_set - nullable:
        if getattr(model, name) is None:
            raise ValueError(f"{name} may not be null")


def _not_root(value: ModuleType | None) -> ModuleType | None:
    if value is ModuleType.COURSE_ROOT:
        raise ValueError("COURSE_ROOT is reserved for the module the course creates itself")
    return value


# --- Modules -----------------------------------------------------------------------------------------------------


class ModuleCreate(Schema):
    parent_module_id: int | None = Field(default=None, description="Defaults to the course's root module.")
    title: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=20_000)
    module_type: ModuleType
    sequence_index: int | None = Field(default=None, ge=0, description="Defaults to the end of the siblings.")
    is_published: bool = False

    _check_type = field_validator("module_type")(_not_root)


class ModuleUpdate(Schema):
    title: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=20_000)
    module_type: ModuleType | None = None
    is_published: bool | None = None

    _check_type = field_validator("module_type")(_not_root)

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        _reject_nulls(self, frozenset({"description"}))
        return self


class ModuleMove(Schema):
    parent_module_id: int
    sequence_index: int = Field(ge=0)


class ModuleRead(ReadSchema):
    id: int
    course_id: int
    parent_module_id: int | None
    title: str
    description: str | None
    module_type: ModuleType
    sequence_index: int
    depth: int
    is_published: bool


# --- Content items -----------------------------------------------------------------------------------------------


class _ItemFields(Schema):
    @field_validator("learning_objectives", check_fields=False)
    @classmethod
    def _objectives(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not item.strip() for item in value):
            raise ValueError("learning objectives may not be empty strings")
        return value


class ContentItemCreate(_ItemFields):
    content_type_id: int
    title: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=20_000)
    data_json: dict[str, Any] = Field(default_factory=dict, description="Any JSON object up to 256 KiB.")
    learning_objectives: list[str] = Field(default_factory=list, max_length=200)
    sequence_index: int | None = Field(default=None, ge=0, description="Defaults to the end of the module.")
    estimated_duration_seconds: int | None = Field(default=None, ge=0, le=10_000_000)
    prompt_name: str | None = Field(default=None, min_length=1, max_length=255)
    prompt_label: str = Field(default="production", pattern=PROMPT_LABEL_PATTERN)


class ContentItemUpdate(_ItemFields):
    content_type_id: int | None = None
    title: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=20_000)
    data_json: dict[str, Any] | None = None
    learning_objectives: list[str] | None = Field(default=None, max_length=200)
    estimated_duration_seconds: int | None = Field(default=None, ge=0, le=10_000_000)
    prompt_name: str | None = Field(default=None, min_length=1, max_length=255)
    prompt_label: str | None = Field(default=None, pattern=PROMPT_LABEL_PATTERN)

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        _reject_nulls(self, frozenset({"description", "estimated_duration_seconds", "prompt_name"}))
        return self


class ContentItemMove(Schema):
    module_id: int
    sequence_index: int = Field(ge=0)


class ContentItemRead(ReadSchema):
    id: int
    module_id: int
    course_id: int
    content_type_id: int
    title: str
    description: str | None
    data_json: dict[str, Any]
    learning_objectives: list[str]
    sequence_index: int
    estimated_duration_seconds: int | None
    prompt_name: str | None
    prompt_label: str


# --- Tree --------------------------------------------------------------------------------------------------------


class ContentItemSummary(BaseModel):
    id: int
    title: str
    content_type: str
    content_type_id: int
    sequence_index: int
    estimated_duration_seconds: int | None


class ModuleNode(BaseModel):
    id: int
    parent_module_id: int | None
    title: str
    description: str | None
    module_type: ModuleType
    sequence_index: int
    depth: int
    is_published: bool
    content_items: list[ContentItemSummary]
    children: list[ModuleNode]


class CourseTree(BaseModel):
    course_id: int
    root: ModuleNode
    tutor_enabled: bool = Field(description="The tutor policy lets this course's students chat (issue 22).")
