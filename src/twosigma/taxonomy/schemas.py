"""Request and response shapes for domains, subjects and content types."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from twosigma.kit.schemas import ReadSchema, Schema

Name = Annotated[str, Field(min_length=1, max_length=100)]
# Content type names are internal identifiers clients switch on ("video", "quiz"): a lowercase slug.
ContentTypeName = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z0-9_-]+$")]
Label = Annotated[str, Field(min_length=1, max_length=100)]
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]


class PatchSchema(Schema):
    """PATCH bodies: absent fields are left alone; `null` is refused for columns that can't be null."""

    non_nullable: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _refuse_null(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = [k for k in cls.non_nullable if k in data and data[k] is None]
            if nulls:
                raise ValueError(f"{', '.join(nulls)} may not be null")
        return data

    def changes(self) -> dict[str, Any]:
        """Only the fields the client sent."""
        return self.model_dump(include=set(self.model_fields_set))


# --- domains ---------------------------------------------------------------------------------------------------


class DomainCreate(Schema):
    name: Name


class DomainUpdate(PatchSchema):
    name: Name | None = None

    non_nullable: ClassVar[tuple[str, ...]] = ("name",)


class DomainRead(ReadSchema):
    id: int
    name: str


# --- subjects --------------------------------------------------------------------------------------------------


class SubjectCreate(Schema):
    domain_id: Id
    name: Name
    parent_subject_id: Id | None = None


class SubjectUpdate(PatchSchema):
    """`parent_subject_id: null` makes the subject top-level; leaving it out keeps its parent."""

    name: Name | None = None
    parent_subject_id: Id | None = None
    domain_id: Id | None = None

    non_nullable: ClassVar[tuple[str, ...]] = ("name", "domain_id")


class SubjectRead(ReadSchema):
    id: int
    domain_id: int
    parent_subject_id: int | None
    name: str


class SubjectNode(ReadSchema):
    id: int
    name: str
    domain_id: int
    parent_subject_id: int | None
    children: list[SubjectNode]


# --- content types ---------------------------------------------------------------------------------------------


GRADABLE_DESCRIPTION = (
    "Items of this type hold a quiz (docs/assessments.md): validated on every write, graded by the server, and read "
    "without their answer keys by anyone who cannot edit the course."
)


class ContentTypeCreate(Schema):
    name: ContentTypeName
    label: Label
    description: str | None = None
    is_active: bool = True
    gradable: bool = Field(default=False, description=GRADABLE_DESCRIPTION)


class ContentTypeUpdate(PatchSchema):
    name: ContentTypeName | None = None
    label: Label | None = None
    description: str | None = None
    is_active: bool | None = None
    gradable: bool | None = Field(
        default=None, description="Turning it off is refused (409) while content items use the type."
    )

    non_nullable: ClassVar[tuple[str, ...]] = ("name", "label", "is_active", "gradable")


class ContentTypeRead(ReadSchema):
    id: int
    name: str
    label: str
    description: str | None
    is_active: bool
    gradable: bool
