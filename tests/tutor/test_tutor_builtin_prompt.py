"""The built-in "General Protocol" prompt: installed once, labelled production, and written to tutor."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.prompts import make_prompt
from twosigma.prompts.models import Prompt
from twosigma.prompts.services.queries import get_resolved_prompt
from twosigma.prompts.templates import content_variable_names
from twosigma.tutor.builtin_prompts import (
    GENERAL_PROTOCOL,
    GENERAL_PROTOCOL_TEXT,
    GENERAL_PROTOCOL_TEXT_V1,
    SYSTEM_ACTOR,
    install_builtin_prompts,
)

VARIABLES = {
    "content_title",
    "content_description",
    "content_data",
    "learning_objectives",
    "module_title",
    "course_title",
    "course_code",
    "student_name",
    "study_level",
    "learning_goal",
    "locale",
    "student_progress",
    "recent_quiz_results",
    "course_material",
}


async def versions(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).where(Prompt.name == GENERAL_PROTOCOL)) or 0)


class TestInstallBuiltinPrompts:
    async def test_it_installs_version_one_labelled_production_with_every_tutor_variable(
        self, db: AsyncSession
    ) -> None:
        assert await install_builtin_prompts(db) is True
        prompt = await get_resolved_prompt(db, GENERAL_PROTOCOL)
        assert prompt.version == 1
        assert "production" in prompt.labels
        assert isinstance(prompt.prompt, str)
        assert set(content_variable_names(prompt.prompt)) == VARIABLES
        assert "Socratic" in prompt.prompt

    async def test_installing_again_changes_nothing(self, db: AsyncSession) -> None:
        await install_builtin_prompts(db)
        assert await install_builtin_prompts(db) is False
        assert await versions(db) == 1

    async def test_an_existing_prompt_of_that_name_is_left_alone(self, db: AsyncSession) -> None:
        await make_prompt(db, GENERAL_PROTOCOL, "our own tutor text", labels=["production"])
        assert await install_builtin_prompts(db) is False
        assert (await get_resolved_prompt(db, GENERAL_PROTOCOL)).prompt == "our own tutor text"


class TestUpgradingTheBuiltinPrompt:
    async def test_an_untouched_version_one_is_upgraded_once_to_the_current_text(self, db: AsyncSession) -> None:
        await make_prompt(db, GENERAL_PROTOCOL, GENERAL_PROTOCOL_TEXT_V1, labels=["production"], actor=SYSTEM_ACTOR)
        assert await install_builtin_prompts(db) is True
        prompt = await get_resolved_prompt(db, GENERAL_PROTOCOL)
        assert (prompt.version, prompt.prompt) == (2, GENERAL_PROTOCOL_TEXT)
        assert "production" in prompt.labels
        assert {"student_progress", "recent_quiz_results"} <= set(content_variable_names(GENERAL_PROTOCOL_TEXT))
        assert await install_builtin_prompts(db) is False
        assert await versions(db) == 2

    async def test_version_one_written_by_an_administrator_is_left_alone(self, db: AsyncSession) -> None:
        await make_prompt(db, GENERAL_PROTOCOL, GENERAL_PROTOCOL_TEXT_V1, labels=["production"])  # an admin's
        assert await install_builtin_prompts(db) is False
        assert await versions(db) == 1

    async def test_version_one_without_the_production_label_is_left_alone(self, db: AsyncSession) -> None:
        await make_prompt(db, GENERAL_PROTOCOL, GENERAL_PROTOCOL_TEXT_V1, labels=["staging"], actor=SYSTEM_ACTOR)
        assert await install_builtin_prompts(db) is False
        assert await versions(db) == 1
