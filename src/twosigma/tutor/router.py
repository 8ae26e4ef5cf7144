"""HTTP routes of the AI tutor: /chat/… for the signed-in owner, /shared/chats/{token} for anyone with the link."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Response, status

from twosigma.authz.dependencies import CurrentPrincipal
from twosigma.db.session import DbSession
from twosigma.kit.clock import Now
from twosigma.kit.deps import AppSettings
from twosigma.kit.pagination import MAX_LIMIT, Page, Pagination
from twosigma.kit.params import IdQuery
from twosigma.kit.routing import APIRouter
from twosigma.kit.schemas import error_responses
from twosigma.system_settings.dependencies import Effective
from twosigma.tutor import orchestrator, service, streaming
from twosigma.tutor.dependencies import (
    ContinuableChat,
    ContinuableMessage,
    OwnChatSession,
    OwnMessage,
    OwnNote,
    ReadableChat,
    Turns,
    WantsStream,
)
from twosigma.tutor.models import ChatMessage, ChatNote
from twosigma.tutor.schemas import (
    ChatSessionCreate,
    ChatSessionRead,
    FeedbackCreate,
    MessageCreate,
    MessagePage,
    MessageRead,
    NoteCreate,
    NoteRead,
    NoteUpdate,
    SharedChatRead,
    ShareRead,
    TurnRead,
)

router = APIRouter(tags=["tutor"])

_READ = error_responses(401, 404, 422)
_GATED = error_responses(401, 403, 404, 422)  # also needs access to the tutor now (authz/tutor.py)
_TURN = error_responses(401, 403, 404, 409, 422, 429, 502, 503)
Cursor = IdQuery
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]

_TURN_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_TURN,
    200: {
        "description": "JSON `{user_message, assistant_message}`; with `Accept: text/event-stream`, Server-Sent "
        "Events `message.created`, `delta`, `message.completed` or `error`.",
        "content": {"text/event-stream": {}},
    },
}


@router.post("/chat/sessions", response_model=ChatSessionRead, status_code=201, responses=_GATED)
async def create_session(
    session: DbSession, principal: CurrentPrincipal, effective: Effective, body: ChatSessionCreate
) -> ChatSessionRead:
    return await service.create_session(session, principal, body, effective)


@router.get("/chat/sessions", response_model=Page[ChatSessionRead], responses=_READ)
async def list_sessions(
    session: DbSession,
    principal: CurrentPrincipal,
    params: Pagination,
    content_item_id: IdQuery = None,
) -> dict[str, Any]:
    return (await service.list_sessions(session, principal, content_item_id, params)).as_dict()


@router.get("/chat/sessions/{session_id}", response_model=ChatSessionRead, responses=_READ)
async def get_session(session: DbSession, principal: CurrentPrincipal, reading: ReadableChat) -> ChatSessionRead:
    """The owner's chat; staff read it only as the tutor policy's chat_visibility allows, and every such read is
    audited (GET /chat/sessions/{id}/reads)."""
    return await service.read_session(session, principal, reading)


@router.delete("/chat/sessions/{session_id}", status_code=204, responses=_READ)
async def delete_session(session: DbSession, chat: OwnChatSession) -> Response:
    await service.delete_session(session, chat)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/chat/sessions/{session_id}/messages", response_model=MessagePage, responses=_READ)
async def list_messages(
    session: DbSession, principal: CurrentPrincipal, reading: ReadableChat, before: Cursor = None, limit: Limit = 50
) -> MessagePage:
    """Newest first; pass `next_before` as `before` for the older page. Staff under `private` visibility get the
    flagged messages and the one before each."""
    return await service.read_messages(session, principal, reading, before, limit)


async def _answer(turn: orchestrator.Turn, deps: orchestrator.TurnDeps, stream: bool) -> Any:
    """A turn's answer, the same for a send, a retry, an edit and a regeneration: SSE or JSON."""
    if stream:
        return streaming.event_stream_response(turn, deps.sessionmaker)
    return await streaming.collect(turn, deps.sessionmaker)


@router.post("/chat/sessions/{session_id}/messages", response_model=TurnRead, responses=_TURN_RESPONSES)
async def send_message(
    session: DbSession, chat: ContinuableChat, body: MessageCreate, deps: Turns, stream: WantsStream
) -> Any:
    return await _answer(await orchestrator.start_turn(session, deps, chat, body.content), deps, stream)


@router.post("/chat/sessions/{session_id}/retry", response_model=TurnRead, responses=_TURN_RESPONSES)
async def retry(session: DbSession, chat: ContinuableChat, deps: Turns, stream: WantsStream) -> Any:
    """Answer the active path's last user message again (a new sibling reply; earlier replies are kept)."""
    return await _answer(await orchestrator.start_turn(session, deps, chat, None), deps, stream)


@router.post("/chat/messages/{message_id}/edit", response_model=TurnRead, responses=_TURN_RESPONSES)
async def edit_message(
    session: DbSession, target: ContinuableMessage, body: MessageCreate, deps: Turns, stream: WantsStream
) -> Any:
    """A new version of one's own USER message, beside it (same parent), answered: the new branch is active; the
    edited message and its branch are kept. 422 `not_a_user_message` on a reply."""
    turn = await orchestrator.start_turn(session, deps, target.chat, body.content, edit_of=target.message)
    return await _answer(turn, deps, stream)


@router.post("/chat/messages/{message_id}/regenerate", response_model=TurnRead, responses=_TURN_RESPONSES)
async def regenerate_message(session: DbSession, target: ContinuableMessage, deps: Turns, stream: WantsStream) -> Any:
    """Answer again the user message an ASSISTANT message answered: a new reply beside it, made active. 422
    `not_an_assistant_message` on a user message."""
    turn = await orchestrator.start_turn(session, deps, target.chat, None, regenerate=target.message)
    return await _answer(turn, deps, stream)


@router.post("/chat/messages/{message_id}/activate", response_model=MessagePage, responses=_READ)
async def activate_message(session: DbSession, message: OwnMessage) -> MessagePage:
    """Switch the active branch to the path through this message, down to its newest continuation; answers the
    first page of the new active path (as GET …/messages)."""
    return await service.activate_message(session, message)


@router.post("/chat/sessions/{session_id}/share", response_model=ShareRead, responses=_GATED)
async def share(session: DbSession, settings: AppSettings, chat: ContinuableChat) -> ShareRead:
    return await service.share_session(session, settings, chat)


@router.delete("/chat/sessions/{session_id}/share", status_code=204, responses=_READ)
async def unshare(session: DbSession, chat: OwnChatSession) -> Response:
    await service.unshare_session(session, chat)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/chat/sessions/{session_id}/notes", response_model=Page[NoteRead], responses=_READ)
async def list_notes(session: DbSession, chat: OwnChatSession, params: Pagination) -> dict[str, Any]:
    return (await service.list_notes(session, chat, params)).as_dict()


@router.post("/chat/sessions/{session_id}/notes", response_model=NoteRead, status_code=201, responses=_READ)
async def create_note(session: DbSession, chat: OwnChatSession, body: NoteCreate) -> ChatNote:
    return await service.create_note(session, chat, body)


@router.patch("/chat/notes/{note_id}", response_model=NoteRead, responses=_READ)
async def update_note(session: DbSession, note: OwnNote, body: NoteUpdate) -> ChatNote:
    return await service.update_note(session, note, body)


@router.delete("/chat/notes/{note_id}", status_code=204, responses=_READ)
async def delete_note(session: DbSession, note: OwnNote) -> Response:
    await service.delete_note(session, note)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/chat/messages/{message_id}/feedback", response_model=MessageRead, responses=_READ)
async def give_feedback(session: DbSession, message: OwnMessage, body: FeedbackCreate, now: Now) -> ChatMessage:
    return await service.give_feedback(session, message, body, now)


@router.get(
    "/shared/chats/{token}", response_model=SharedChatRead, responses=error_responses(404, 422), tags=["tutor: shared"]
)
async def shared_chat(
    session: DbSession, token: Annotated[str, Path(max_length=255)], after: Cursor = None, limit: Limit = MAX_LIMIT
) -> SharedChatRead:
    """No login: the context's title and the USER/ASSISTANT messages, oldest first (`next_after` pages on)."""
    return await service.shared_chat(session, token, after, limit)
