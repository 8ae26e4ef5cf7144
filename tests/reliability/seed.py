"""One of everything, committed on a scratch database, so fuzzed ids (small integers) hit real rows."""

from __future__ import annotations

from dataclasses import dataclass

from tests.fixtures.factories import auth_headers, grant_role, make_university, make_user
from tests.fixtures.prompts import EVERY_SCOPE, make_api_key, make_prompt
from tests.fixtures.taxonomy import make_subject
from tests.fixtures.tutor import add_messages, make_chat, make_lesson
from twosigma.config import Settings
from twosigma.db.engine import make_engine, make_sessionmaker
from twosigma.enums import UserRole
from twosigma.feature_requests.models import FeatureRequest
from twosigma.tutor.builtin_prompts import install_builtin_prompts
from twosigma.tutor.models import ChatNote

HIDDEN_ID = 1_000_000_007


@dataclass(frozen=True)
class SeededWorld:
    admin_headers: dict[str, str]
    student_headers: dict[str, str]
    api_key_headers: dict[str, str]


async def seed_world(url: str, settings: Settings) -> SeededWorld:
    engine = make_engine(url, settings)
    try:
        async with make_sessionmaker(engine)() as db:
            # The admin and their grant live at ids random inputs do not reach, so the admin's own fuzzed DELETE
            # or deactivation cannot take their rights away halfway through the run.
            platform = await make_university(db, id=HIDDEN_ID, short_code="FUZZROOT")
            admin = await make_user(db, id=HIDDEN_ID)
            await grant_role(db, admin, platform, UserRole.PLATFORM_ADMIN)
            lesson = await make_lesson(db)
            await make_subject(db, parent=await make_subject(db))
            chat = await make_chat(db, lesson.student, content_item_id=lesson.item.id)
            await add_messages(db, chat, 4)
            db.add(ChatNote(session_id=chat.id, content="A note"))
            db.add(FeatureRequest(user_id=lesson.student.id, title="Dark mode", description="Please."))
            await install_builtin_prompts(db)
            await make_prompt(db, "fuzz/greeting", labels=["production"])
            _, api_key_headers = await make_api_key(db, settings, scopes=EVERY_SCOPE)
            await db.commit()
            return SeededWorld(
                admin_headers=auth_headers(settings, admin),
                student_headers=auth_headers(settings, lesson.student),
                api_key_headers=api_key_headers,
            )
    finally:
        await engine.dispose()
