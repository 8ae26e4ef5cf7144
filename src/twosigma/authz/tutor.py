"""Who may talk to the AI tutor — decided on every turn, not once when the chat was opened.

`ensure_tutor_access` is the one check: opening a chat (POST /chat/sessions) and, on an existing chat, every message,
every retry, edit and regeneration and every share call it, with the access the caller has *now*:

- A chat about a content item: the caller must be able to read the item, by the rule of reading it
  (authz/access/content.py: staff of the course's university; or an ACTIVE/COMPLETED enrolment in an offering of the
  published course, with the item's module and every ancestor published). Opening a chat on an item one may not
  read is 404, as reading it is. On an existing chat, losing that access (the enrolment DROPPED, the course or
  module unpublished, the staff role revoked, the item deleted) is 403 `content_access_lost`: the chat is the
  caller's own and stays readable, so a 404 would contradict GET /chat/sessions/{id}; the 403 says why it cannot go
  on. No LLM call is made and nothing is stored.
- A chat with no content item is a general-purpose LLM: it is open to staff (any staff role in any university, or
  platform admin) and to users with an ACTIVE enrolment in some offering; everyone else gets 403
  `tutor_enrollment_required` — unless the runtime setting `tutor.open_chat` opens it to every signed-in user.

Per-university rules (a suspended member, say) plug in where the university is known: for an item, in the rule of
reading it (`can_read_course_content` is asked with the course's university); for a chat without one, in
`can_chat_without_content`, which is given the universities of the caller's ACTIVE enrolments one by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.authz import repository
from twosigma.authz.access.content import ItemAccess, readable_item
from twosigma.authz.policy import is_staff, is_suspended
from twosigma.authz.principal import Principal
from twosigma.kit.errors import Forbidden, NotFound, not_found
from twosigma.tutor import repository as tutor_repo
from twosigma.tutor.models import ChatMessage, ChatNote, ChatSession


class ContentAccessLost(Forbidden):
    code = "content_access_lost"
    default_message = (
        "You can no longer read the content item of this conversation, so it cannot go on; its messages stay readable."
    )


class TutorEnrollmentRequired(Forbidden):
    code = "tutor_enrollment_required"
    default_message = "A conversation without a content item needs an active enrolment in a course."


# --- Ownership: chats belong to their user --------------------------------------------------------------------------
# The loaders select by id AND the caller's user id, so anyone else's chat, note or message is a 404, indistinguishable
# from one that does not exist (SPEC §4). Staff have no view of chats.


async def own_session(session: AsyncSession, principal: Principal, session_id: int) -> ChatSession:
    chat = await tutor_repo.own_session(session, session_id, principal.id)
    if chat is None:
        raise not_found("Chat session", code="chat_session_not_found")
    return chat


async def own_note(session: AsyncSession, principal: Principal, note_id: int) -> ChatNote:
    note = await tutor_repo.own_note(session, note_id, principal.id)
    if note is None:
        raise not_found("Note", code="note_not_found")
    return note


async def own_message(session: AsyncSession, principal: Principal, message_id: int) -> ChatMessage:
    message = await tutor_repo.own_message(session, message_id, principal.id)
    if message is None:
        raise not_found("Message", code="message_not_found")
    return message


@dataclass(frozen=True)
class MessageInChat:
    message: ChatMessage
    chat: ChatSession


async def continuable_message(
    session: AsyncSession, principal: Principal, message_id: int, *, open_chat: bool
) -> MessageInChat:
    """The caller's own message (else 404) in a chat they may go on with now (`ensure_tutor_access`, else 403):
    editing a message and regenerating a reply are turns like any other."""
    message = await own_message(session, principal, message_id)
    chat = await own_session(session, principal, message.session_id)
    await ensure_tutor_access(session, principal, open_chat=open_chat, chat=chat)
    return MessageInChat(message, chat)


# --- Talking to the tutor --------------------------------------------------------------------------------------------


def is_staff_anywhere(p: Principal) -> bool:
    return p.is_platform_admin or any(is_staff(p, u) for u in p.university_ids())


def enrollment_counts_for_tutor(p: Principal, university_id: int) -> bool:
    """Whether an ACTIVE enrolment in an offering of this university opens the tutor to `p`: not while the
    university has suspended its member."""
    return not is_suspended(p, university_id)


def can_chat_without_content(p: Principal, *, open_chat: bool, enrolled_in: Iterable[int]) -> bool:
    """`enrolled_in`: the universities of the caller's ACTIVE enrolments."""
    if open_chat or is_staff_anywhere(p):
        return True
    return any(enrollment_counts_for_tutor(p, u) for u in enrolled_in)


async def _ensure_may_chat_without_content(session: AsyncSession, principal: Principal, open_chat: bool) -> None:
    # The enrolments are read only when the answer depends on them.
    if can_chat_without_content(principal, open_chat=open_chat, enrolled_in=()):
        return
    enrolled_in = await repository.active_enrollment_universities(session, principal.id)
    if not can_chat_without_content(principal, open_chat=open_chat, enrolled_in=enrolled_in):
        raise TutorEnrollmentRequired()


async def ensure_tutor_access(
    session: AsyncSession,
    principal: Principal,
    *,
    open_chat: bool,
    chat: ChatSession | None = None,
    content_item_id: int | None = None,
) -> ItemAccess | None:
    """Pass (returning the item read, when the chat has one) or raise. Opening a chat: `content_item_id` from the
    request. An existing `chat` (the caller's own): its item; a snapshot of an item whose row is gone counts as an
    item nobody can read."""
    if chat is not None:
        content_item_id = chat.content_item_id
        if content_item_id is None and chat.content_context.get("content_item"):
            raise ContentAccessLost("The content item of this conversation no longer exists, so it cannot go on.")
    if content_item_id is None:
        await _ensure_may_chat_without_content(session, principal, open_chat)
        return None
    try:
        return await readable_item(session, principal, content_item_id)
    except (NotFound, Forbidden):
        if chat is not None:
            raise ContentAccessLost(details={"content_item_id": content_item_id}) from None
        # A chat is the caller's own business: an item they may not read simply is not there for them.
        raise not_found("Content item") from None
