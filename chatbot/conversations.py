"""Reads and writes of conversations and their messages, each in its own short transaction.

The shopper's message is committed before any answering starts (state "pending" while the
bot owes it an answer), and every answer attempt ends in a stored assistant message (ok,
error or cancelled) that marks it answered, so a transcript has no holes. A process killed
mid-turn leaves pending messages; the next start closes them with an honest error record
(`close_interrupted_turns`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from chatbot.errors import ConversationNotFound, UnknownCustomer
from chatbot.messages import say
from shopcore.store.db import transaction
from shopcore.store.models import Conversation, Customer, Message, utcnow


@dataclass(frozen=True)
class TurnStart:
    conversation_id: str
    message_id: int
    state: str  # the conversation's state: bot answers, or an agent has taken over
    history: list[dict[str, str]]  # earlier messages, oldest first, as chat-template dicts


def start_turn(
    sessions: sessionmaker[Session],
    text: str,
    conversation_id: str | None,
    customer_id: int | None,
    channel: str,
    history_turns: int,
) -> TurnStart:
    """Store the shopper's message (opening a conversation if needed) and read its history."""
    with transaction(sessions) as session:
        if customer_id is not None and session.get(Customer, customer_id) is None:
            raise UnknownCustomer(f"customer {customer_id} does not exist")
        if conversation_id is None:
            conversation = Conversation(customer_id=customer_id, channel=channel)
            session.add(conversation)
            session.flush()
        else:
            conversation = _owned(session, conversation_id, customer_id)
        history = _history(session, conversation.id, history_turns)
        # Pending while the bot owes it an answer; a message to a person is simply stored.
        message = Message(conversation_id=conversation.id, role="user", text=text,
                          state="pending" if conversation.state == "bot" else "ok")
        session.add(message)
        conversation.updated_at = utcnow()
        session.flush()
        return TurnStart(conversation.id, message.id, conversation.state, history)


def _owned(session: Session, conversation_id: str, customer_id: int | None) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    # Someone else's conversation looks exactly like a missing one: ids are not an oracle.
    if conversation is None or conversation.customer_id != customer_id:
        raise ConversationNotFound(f"conversation {conversation_id} not found")
    return conversation


def _history(session: Session, conversation_id: str, turns: int) -> list[dict[str, str]]:
    if turns == 0:
        return []
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.state == "ok")
        .order_by(Message.id.desc())
        .limit(turns)
    ).all()
    # An agent's reply is, to the shopper and the model, the shop's answer. A shopper's message
    # carries the question it was understood as, where it was (chatbot/question.py).
    return [
        {"role": "user" if m.role == "user" else "assistant", "content": m.text}
        | ({"question": m.question} if m.role == "user" and m.question else {})
        for m in reversed(rows)
    ]


def record_answer(
    sessions: sessionmaker[Session],
    conversation_id: str,
    reply_to_id: int,
    text: str,
    *,
    state: str = "ok",
    error: str | None = None,
    sources: list[dict[str, Any]] | None = None,
    model_id: str | None = None,
    adapter_version: str | None = None,
    ttft_ms: float | None = None,
    latency_ms: float | None = None,
    prompt_tokens: int | None = None,
    tokens_generated: int | None = None,
    guardrail: dict[str, Any] | None = None,
    question: str | None = None,
) -> int:
    """Store the assistant's side of a turn, whatever happened to it, and the question the
    shopper's message was understood as, if it got that far; return the answer's id."""
    with transaction(sessions) as session:
        message = Message(
            conversation_id=conversation_id,
            role="assistant",
            text=text,
            state=state,
            error=error,
            reply_to_id=reply_to_id,
            sources=sources or [],
            model_id=model_id,
            adapter_version=adapter_version,
            ttft_ms=ttft_ms,
            latency_ms=latency_ms,
            prompt_tokens=prompt_tokens,
            tokens_generated=tokens_generated,
            guardrail=guardrail,
        )
        session.add(message)
        session.execute(update(Message).where(Message.id == reply_to_id, Message.state == "pending")
                        .values(state="ok"))
        if question is not None:
            session.execute(update(Message).where(Message.id == reply_to_id).values(question=question))
        session.flush()
        return message.id


# Written at start, when the conversation's language is not known: in English.
INTERRUPTED = say("interrupted", "en")


def close_interrupted_turns(sessions: sessionmaker[Session], older_than_s: float = 0) -> int:
    """Give every shopper message still waiting for the bot, older than `older_than_s`, an
    error answer saying it was interrupted; return how many. Run when the service starts:
    a turn in flight when the process died has no other way to end."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    with sessions() as session:
        waiting = session.execute(select(Message.id, Message.conversation_id).where(
            Message.role == "user", Message.state == "pending", Message.created_at <= cutoff)).all()
    for message_id, conversation_id in waiting:
        record_answer(sessions, conversation_id, message_id, INTERRUPTED, state="error",
                      error="interrupted: the service stopped before this turn ended")
    return len(waiting)


def conversation_transcript(
    sessions: sessionmaker[Session], conversation_id: str, customer_id: int | None, *, agent: bool = False
) -> dict[str, Any]:
    """A conversation and its messages; shoppers see only their own, agents see any."""
    with sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None or (not agent and conversation.customer_id != customer_id):
            raise ConversationNotFound(f"conversation {conversation_id} not found")
        return {
            "conversation_id": conversation.id,
            "customer_id": conversation.customer_id if agent else None,
            "state": conversation.state,
            "risk": {"score": conversation.risk_score, "level": conversation.risk_level},
            "created_at": conversation.created_at.isoformat(),
            "messages": [
                {
                    "id": m.id,
                    "role": m.role,
                    "text": m.text,
                    "state": m.state,
                    "created_at": m.created_at.isoformat(),
                    "sources": m.sources,
                }
                for m in conversation.messages
            ],
        }
