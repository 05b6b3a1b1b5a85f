"""Live updates as server-sent events, fed from the database.

Each open stream polls `conversation_events` (and, for the console, `messages`) past its
id cursor, so any number of server processes serve the same feed with no broker: what one
process writes, every other's streams read within a poll. The cursor is the SSE event id
("<event id>-<message id>"), so a browser that reconnects (EventSource sends Last-Event-ID)
misses nothing.

The console's stream carries every conversation's events and new messages; a shopper's
carries only their own conversation's events a shopper may see (never notes) with the
agent's reply texts, and the hand-off status in their language after each change.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chatbot.inbox import SHOPPER_KINDS
from shopcore.store.models import ConversationEvent, Message

POLL_S = 0.5  # how often a console stream looks for news: its delay is about half of it
SHOPPER_POLL_S = 1.0  # a shopper's widget: one open per shopper, so it asks half as often
STREAM_S = 300  # a stream ends after this and the browser reconnects with its cursor
BATCH = 200


@dataclass(frozen=True)
class Cursor:
    event_id: int = 0
    message_id: int = 0

    def __str__(self) -> str:
        return f"{self.event_id}-{self.message_id}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """A cursor from "E-M" (or "E"); None if text is not one."""
        first, _, second = (text or "").strip().partition("-")
        if not first.isdigit() or (second and not second.isdigit()):
            return None
        return cls(int(first), int(second or 0))


def now_cursor(sessions: sessionmaker[Session]) -> Cursor:
    """The cursor past everything stored so far: a page rendered now starts its stream here."""
    with sessions() as session:
        return Cursor(session.scalar(select(func.max(ConversationEvent.id))) or 0,
                      session.scalar(select(func.max(Message.id))) or 0)


def changes(sessions: sessionmaker[Session], cursor: Cursor, *, conversation_id: str | None = None,
            shopper: bool = False) -> tuple[list[dict[str, Any]], Cursor]:
    """What happened after cursor, oldest first, and the cursor past it.

    Console: every event (notes included) and every new message, of one conversation or
    all. Shopper (conversation_id required): only SHOPPER_KINDS, agent replies with their
    text, and no messages (the shopper's own turns reach them through the chat itself)."""
    with sessions() as session:
        query = select(ConversationEvent).where(ConversationEvent.id > cursor.event_id)
        if conversation_id is not None:
            query = query.where(ConversationEvent.conversation_id == conversation_id)
        events = session.scalars(query.order_by(ConversationEvent.id).limit(BATCH)).all()
        out, event_id = [], max([cursor.event_id, *(e.id for e in events)])
        replies = {}
        if shopper:
            ids = [e.detail.get("message_id") for e in events if e.kind == "agent_reply"]
            replies = dict(session.execute(select(Message.id, Message.text).where(
                Message.id.in_([i for i in ids if isinstance(i, int)]))).all()) if ids else {}
        for e in events:
            if shopper and e.kind not in SHOPPER_KINDS:
                continue
            item = {"kind": e.kind, "conversation_id": e.conversation_id, "event_id": e.id,
                    "at": e.at.isoformat()}
            if shopper:
                if e.kind == "agent_reply":
                    item.update(message_id=e.detail.get("message_id"), text=replies.get(e.detail.get("message_id"), ""))
            else:
                item.update(actor=e.actor, detail=e.detail)
            out.append(item)
        message_id = cursor.message_id
        if not shopper:
            query = select(Message.id, Message.conversation_id, Message.role).where(Message.id > cursor.message_id)
            if conversation_id is not None:
                query = query.where(Message.conversation_id == conversation_id)
            for mid, cid, role in session.execute(query.order_by(Message.id).limit(BATCH)).all():
                out.append({"kind": "message", "conversation_id": cid, "message_id": mid, "role": role})
                message_id = mid
    return out, Cursor(event_id, message_id)


async def stream(sessions: sessionmaker[Session], cursor: Cursor, *, conversation_id: str | None = None,
                 shopper: bool = False, status: Callable[[], dict] | None = None,
                 poll_s: float = POLL_S, stream_s: float = STREAM_S) -> AsyncIterator[dict[str, str]]:
    """SSE messages (event, id, data) for changes past cursor, until stream_s has passed.
    With `status` (the shopper's), the hand-off status is sent first and after each change."""
    ends = time.monotonic() + stream_s
    if status is not None:
        yield {"event": "status", "id": str(cursor), "data": json.dumps(await run_in_threadpool(status))}
    while time.monotonic() < ends:
        found, cursor = await run_in_threadpool(changes, sessions, cursor, conversation_id=conversation_id,
                                                shopper=shopper)
        for item in found:
            yield {"event": item["kind"], "id": str(cursor), "data": json.dumps(item, default=str)}
        if found and status is not None:
            yield {"event": "status", "id": str(cursor), "data": json.dumps(await run_in_threadpool(status))}
        if not found:
            await asyncio.sleep(poll_s)
