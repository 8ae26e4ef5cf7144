"""Request and response shapes of tutor governance."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from twosigma.kit.schemas import Schema

ChatVisibility = Literal["private", "flagged", "course"]
Level = Literal["platform", "university", "course"]
# A budget beyond a billion dollars a month is a typo, not a policy.
Budget = float | None
BUDGET = Field(default=None, ge=0, le=1_000_000_000, allow_inf_nan=False)


class CourseTutorPolicyWrite(Schema):
    """PUT replaces the course's policy: a field left out or null inherits from the university (and platform)."""

    enabled: bool | None = None
    monthly_budget_usd: Budget = BUDGET
    user_daily_budget_usd: Budget = BUDGET


class UniversityTutorPolicyWrite(CourseTutorPolicyWrite):
    chat_visibility: ChatVisibility | None = None
    support_text: str | None = Field(default=None, min_length=1, max_length=2000)
    safety_contact_email: str | None = Field(
        default=None,
        max_length=255,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="Where high-severity safety flags are mailed (when SMTP is configured). Not inherited.",
    )


class EffectiveValue(BaseModel):
    value: JsonValue
    source: Level


class TutorPolicyRead(BaseModel):
    """The level's own policy (null = inherit); with `?effective=true` also the resolved value of every field and the
    level it came from."""

    level: Literal["university", "course"]
    enabled: bool | None
    monthly_budget_usd: float | None
    user_daily_budget_usd: float | None
    chat_visibility: ChatVisibility | None = None
    support_text: str | None = None
    safety_contact_email: str | None = None
    effective: dict[str, EffectiveValue] | None = None


class UsageGroupBy(StrEnum):
    USER = "user"
    COURSE = "course"
    MODEL = "model"
    DAY = "day"


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


class UsageRow(BaseModel):
    key: str | int | None = Field(description="The user id, course id, model or day (UTC); null: deleted since.")
    label: str | None = Field(description="The user's name, the course's title, the model, or the day.")
    input_tokens: int
    output_tokens: int
    cost_usd: float
    turns: int
    active_students: int


class BudgetStatus(BaseModel):
    scope: Literal["university_monthly", "course_monthly"]
    university_id: int
    course_id: int | None
    limit_usd: float
    spent_usd: float
    ratio: float = Field(description="spent / limit (1 for a budget of 0).")
    threshold_reached: bool = Field(description="At least 80 % of the budget is spent.")
    exhausted: bool


FlagStatus = Literal["open", "acknowledged", "resolved"]


class FlagRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    session_id: int | None = Field(description="Null once the chat was deleted: the flag outlives it, without text.")
    message_id: int | None = Field(description="Null once the chat (or the message) was deleted.")
    user_id: int
    course_id: int | None
    category: str
    severity: str
    screen: Literal["input", "output"]
    source: str
    status: FlagStatus
    note: str | None
    handled_by_id: int | None
    handled_at: datetime | None
    created_at: datetime


class FlagUpdate(Schema):
    status: Literal["acknowledged", "resolved"]
    note: str | None = Field(default=None, max_length=2000)


class FlagCounts(BaseModel):
    open: int = 0
    acknowledged: int = 0
    resolved: int = 0
    by_category: dict[str, int] = Field(default_factory=dict)


class TutorUsageReport(BaseModel):
    university_id: int | None
    course_id: int | None
    since: date
    until: date = Field(description="Inclusive.")
    group_by: UsageGroupBy
    rows: list[UsageRow]
    totals: UsageRow
    budgets: list[BudgetStatus] = Field(description="This month's budgets in scope set at university or course level.")
    flags: FlagCounts = Field(description="Escalated safety flags raised in the window, by status and category.")


class UniversitySettingWrite(Schema):
    value: JsonValue = Field(description="Validated like the platform's setting of the same key.")


class UniversitySettingRead(BaseModel):
    key: str
    value: JsonValue = Field(description="For a secret only a mask such as ••••a1b2.")
    is_encrypted: bool
    updated_at: datetime


class UniversitySettingList(BaseModel):
    items: list[UniversitySettingRead]


class ChatReadEvent(BaseModel):
    reader_id: int | None
    reader_email: str | None
    read: str = Field(description="session or messages")
    at: datetime


class ItemInsight(BaseModel):
    content_item_id: int
    title: str
    sessions: int
    turns: int = Field(description="The students' messages.")


class TopTerm(BaseModel):
    term: str = Field(description="A stemmed lexeme of PostgreSQL's English full-text configuration.")
    uses: int
    sessions: int


class TutorInsights(BaseModel):
    course_id: int
    chat_visibility: ChatVisibility
    items: list[ItemInsight]
    top_terms: list[TopTerm]
