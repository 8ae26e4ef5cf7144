"""Every tutor turn retrieves course material: what the provider receives (the fake's recorded request bodies) and
the citations stored with the reply."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fakes import FakeAnthropic
from tests.fixtures.content import make_module
from tests.fixtures.courses import make_enrollment
from tests.fixtures.quiz_content import SECRET_VALUES, make_quiz_type, quiz
from tests.fixtures.tutor import API, SSE, parse_sse
from tests.retrieval.conftest import Course, make_indexed_course
from twosigma.config import Settings
from twosigma.enums import EnrollmentStatus
from twosigma.tenancy.models import MemberSuspension

OSMOSIS = "Water crosses a semipermeable membrane toward the higher solute concentration."
MITOSIS = "Mitosis splits one nucleus into two identical nuclei."


def system_of(body: dict[str, Any]) -> str:
    system: Any = body.get("system") or ""
    return system if isinstance(system, str) else "".join(block["text"] for block in system)


def every_request_text(fake: FakeAnthropic) -> str:
    return "\n".join(request.body.decode() for request in fake.requests)


class TestCourseMaterial:
    async def test_a_question_about_item_a_asked_in_item_bs_session_sends_as_text_and_cites_it(
        self, course: Course, anthropic: FakeAnthropic
    ) -> None:
        osmosis = await course.add("Osmosis", OSMOSIS)
        mitosis = await course.add("Mitosis", MITOSIS)
        chat = await course.open_chat(mitosis)
        anthropic.script(deltas=("Think about the membrane ", "[1]."))
        reply = await course.ask(chat, "Why does water cross a semipermeable membrane?")
        system = system_of(anthropic.last_request.json())
        assert f"[1] Osmosis — {OSMOSIS}" in system
        assert "cite it by its number" in system
        citations = reply["meta"]["citations"]
        assert citations[0] == {
            "n": 1,
            "content_item_id": osmosis,
            "module_id": course.module.id,
            "title": "Osmosis",
            "snippet": OSMOSIS,
            "used": True,
        }
        assert all(not c["used"] for c in citations[1:])
        assert isinstance(reply["meta"]["retrieval_ms"], int)

    async def test_citations_are_marked_used_exactly_when_the_reply_cites_them(
        self, course: Course, anthropic: FakeAnthropic
    ) -> None:
        await course.add("Osmosis", OSMOSIS)
        await course.add("Diffusion", "Particles spread from high to low concentration across space.")
        chat = await course.open_chat(None)
        anthropic.script(deltas=("Compare ", "[2] with what you know."))
        reply = await course.ask(chat, "concentration membrane particles water")
        citations = reply["meta"]["citations"]
        assert [c["n"] for c in citations] == [1, 2]
        assert [c["used"] for c in citations] == [False, True]

    async def test_the_streamed_completion_event_carries_the_citations(
        self, course: Course, anthropic: FakeAnthropic
    ) -> None:
        osmosis = await course.add("Osmosis", OSMOSIS)
        chat = await course.open_chat(osmosis)
        anthropic.script(deltas=("Yes [1].",))
        response = await course.client.post(
            f"{API}/chat/sessions/{chat}/messages",
            json={"content": "semipermeable membrane?"},
            headers=course.student | SSE,
        )
        assert response.status_code == 200, response.text
        name, completed = parse_sse(response.text)[-1]
        assert name == "message.completed"
        assert completed["meta"]["citations"][0]["content_item_id"] == osmosis
        assert completed["meta"]["citations"][0]["used"] is True

    async def test_unpublished_items_and_other_courses_are_never_retrieved(
        self, db: AsyncSession, client: httpx.AsyncClient, settings: Settings, course: Course, anthropic: FakeAnthropic
    ) -> None:
        osmosis = await course.add("Osmosis", OSMOSIS)
        drafts = await make_module(db, parent=course.module, title="Drafts", is_published=False)
        await course.add("Draft osmosis", "DRAFTSECRET semipermeable membrane water", module=drafts)
        # Another course of the same student (ACTIVE there too) with the same words.
        other = await make_indexed_course(db, client, settings)
        await make_enrollment(db, user=course.classroom.enrolled, offering=other.classroom.campus.offering)
        await other.add("Osmosis elsewhere", "OTHERCOURSE semipermeable membrane water")
        chat = await course.open_chat(osmosis)
        reply = await course.ask(chat, "semipermeable membrane water")
        sent = every_request_text(anthropic)
        assert OSMOSIS in sent
        assert "DRAFTSECRET" not in sent
        assert "OTHERCOURSE" not in sent
        assert {c["content_item_id"] for c in reply["meta"]["citations"]} == {osmosis}

    async def test_a_session_without_an_item_searches_every_course_the_student_is_active_in_only(
        self, db: AsyncSession, client: httpx.AsyncClient, settings: Settings, course: Course, anthropic: FakeAnthropic
    ) -> None:
        await course.add("Osmosis", OSMOSIS)
        active = await make_indexed_course(db, client, settings)
        await make_enrollment(db, user=course.classroom.enrolled, offering=active.classroom.campus.offering)
        theirs = await active.add("Turgor", "ACTIVECOURSE semipermeable membrane pressure")
        dropped = await make_indexed_course(db, client, settings)
        await make_enrollment(
            db,
            user=course.classroom.enrolled,
            offering=dropped.classroom.campus.offering,
            status=EnrollmentStatus.DROPPED,
        )
        await dropped.add("Plasmolysis", "DROPPEDCOURSE semipermeable membrane")
        stranger = await make_indexed_course(db, client, settings)
        await stranger.add("Lysis", "STRANGERCOURSE semipermeable membrane")
        chat = await course.open_chat(None)
        reply = await course.ask(chat, "semipermeable membrane")
        sent = every_request_text(anthropic)
        assert OSMOSIS in sent
        assert "ACTIVECOURSE" in sent
        assert "DROPPEDCOURSE" not in sent
        assert "STRANGERCOURSE" not in sent
        assert theirs in {c["content_item_id"] for c in reply["meta"]["citations"]}

    async def test_a_session_without_an_item_leaves_out_courses_of_a_university_that_suspended_the_student(
        self, db: AsyncSession, client: httpx.AsyncClient, settings: Settings, course: Course, anthropic: FakeAnthropic
    ) -> None:
        await course.add("Osmosis", OSMOSIS)
        suspending = await make_indexed_course(db, client, settings)
        # ACTIVE there, and also DROPPED from another offering of a third course: neither may be searched.
        await make_enrollment(db, user=course.classroom.enrolled, offering=suspending.classroom.campus.offering)
        await suspending.add("Turgor", "SUSPENDEDCOURSE semipermeable membrane pressure")
        db.add(
            MemberSuspension(
                user_id=course.classroom.enrolled.id, university_id=suspending.classroom.campus.university.id
            )
        )
        dropped = await make_indexed_course(db, client, settings)
        await make_enrollment(
            db,
            user=course.classroom.enrolled,
            offering=dropped.classroom.campus.offering,
            status=EnrollmentStatus.DROPPED,
        )
        await dropped.add("Plasmolysis", "DROPPEDCOURSE semipermeable membrane")
        await db.flush()
        chat = await course.open_chat(None)
        reply = await course.ask(chat, "semipermeable membrane")
        sent = every_request_text(anthropic)
        assert OSMOSIS in sent
        assert "SUSPENDEDCOURSE" not in sent
        assert "DROPPEDCOURSE" not in sent
        assert {c["content_item_id"] for c in reply["meta"]["citations"]} == {course.items["Osmosis"]}

    async def test_an_unpublished_course_is_not_searched(
        self, db: AsyncSession, course: Course, anthropic: FakeAnthropic
    ) -> None:
        await course.add("Osmosis", OSMOSIS)
        chat = await course.open_chat(None)
        course.classroom.course.is_published = False
        await db.flush()
        reply = await course.ask(chat, "semipermeable membrane")
        assert OSMOSIS not in every_request_text(anthropic)
        assert reply["meta"]["citations"] == []

    async def test_no_answer_key_reaches_the_provider_in_any_request(
        self, db: AsyncSession, course: Course, anthropic: FakeAnthropic
    ) -> None:
        quiz_type = await make_quiz_type(db)
        planets = await course.add("Planets quiz", "", content_type_id=quiz_type.id, data_json=quiz())
        await course.add("Planets reading", "Jupiter and Mars are planets; which planet is largest is a classic.")
        chat = await course.open_chat(planets)
        await course.ask(chat, "Which planet is largest? What is the capital of France? g in m/s^2?")
        await course.ask(chat, "And which are prime?")
        sent = every_request_text(anthropic)
        assert "Which planet is largest?" in sent
        for secret in SECRET_VALUES:
            assert secret not in sent

    async def test_the_last_turn_is_part_of_the_query(self, course: Course, anthropic: FakeAnthropic) -> None:
        osmosis = await course.add("Osmosis", OSMOSIS)
        chat = await course.open_chat(None)
        await course.ask(chat, "Tell me about semipermeable membranes")
        anthropic.clear_requests()
        reply = await course.ask(chat, "why?")  # no word of its own matches; the previous turn's do
        assert [c["content_item_id"] for c in reply["meta"]["citations"]] == [osmosis]
