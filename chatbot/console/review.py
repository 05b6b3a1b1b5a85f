"""What the agent console reads: conversations filtered by risk, offer state, date and text;
one conversation with its per-message risk, sources, offers and corrections; and exports.

Read-only, in short sessions; the same queries run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from chatbot.errors import ConversationNotFound
from shopcore.store.models import (
    AgentAnnotation,
    Conversation,
    Customer,
    Message,
    RetentionOffer,
    RiskScore,
)

NO_OFFER = "none"


@dataclass(frozen=True)
class ReviewFilter:
    """The console's filters; None means 'any'."""

    risk_level: str | None = None
    offer_state: str | None = None  # an offer state, or "none" for conversations without one
    since: date | None = None
    until: date | None = None  # inclusive
    text: str | None = None
    limit: int = 200


def _filtered(filters: ReviewFilter) -> Select:
    query = select(Conversation)
    if filters.risk_level:
        query = query.where(Conversation.risk_level == filters.risk_level)
    if filters.offer_state == NO_OFFER:
        query = query.where(~exists().where(RetentionOffer.conversation_id == Conversation.id))
    elif filters.offer_state:
        query = query.where(exists().where(RetentionOffer.conversation_id == Conversation.id,
                                           RetentionOffer.state == filters.offer_state))
    if filters.since:
        query = query.where(Conversation.updated_at >= _start_of(filters.since))
    if filters.until:
        query = query.where(Conversation.created_at < _start_of(filters.until + timedelta(days=1)))
    if filters.text:
        pattern = "%" + filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(exists().where(Message.conversation_id == Conversation.id,
                                           Message.text.ilike(pattern, escape="\\")))
    return query.order_by(Conversation.updated_at.desc(), Conversation.id).limit(filters.limit)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def list_conversations(sessions: sessionmaker[Session], filters: ReviewFilter) -> list[dict[str, Any]]:
    """One summary row per matching conversation, most recently active first."""
    with sessions() as session:
        conversations = session.scalars(_filtered(filters)).all()
        ids = [c.id for c in conversations]
        counts = dict(session.execute(
            select(Message.conversation_id, func.count()).where(Message.conversation_id.in_(ids))
            .group_by(Message.conversation_id)).all())
        offers = _offers_by_conversation(session, ids)
        openers = _first_user_texts(session, ids)
        customers = _customer_names(session, {c.customer_id for c in conversations})
        return [
            {
                "id": c.id,
                "customer": customers.get(c.customer_id),
                "channel": c.channel,
                "state": c.state,
                "risk_level": c.risk_level,
                "risk_score": c.risk_score,
                "created_at": c.created_at,
                "updated_at": c.updated_at,
                "messages": counts.get(c.id, 0),
                "first_message": openers.get(c.id, "")[:160],
                "offers": [o["state"] for o in offers.get(c.id, [])],
            }
            for c in conversations
        ]


def _first_user_texts(session: Session, ids: list[str]) -> dict[str, str]:
    first = (select(func.min(Message.id)).where(Message.conversation_id.in_(ids), Message.role == "user")
             .group_by(Message.conversation_id))
    rows = session.execute(select(Message.conversation_id, Message.text).where(Message.id.in_(first)))
    return dict(rows.all())


def _customer_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all())


def _offers_by_conversation(session: Session, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    rows = session.scalars(select(RetentionOffer).where(RetentionOffer.conversation_id.in_(ids))
                           .order_by(RetentionOffer.id)).all()
    found: dict[str, list[dict[str, Any]]] = {}
    for offer in rows:
        found.setdefault(offer.conversation_id, []).append({
            "id": offer.id, "message_id": offer.message_id, "rule": offer.rule, "kind": offer.kind,
            "code": offer.code, "value": float(offer.value), "unit": offer.unit,
            "cost": float(offer.cost), "terms": offer.terms, "state": offer.state,
            "reasons": list(offer.reasons or []), "redeemed_order": offer.redeemed_order,
            "created_at": offer.created_at, "expires_at": offer.expires_at,
        })
    return found


def conversation_review(sessions: sessionmaker[Session], conversation_id: str) -> dict[str, Any]:
    """A conversation as an agent reviews it: messages with risk, sources and corrections."""
    with sessions() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConversationNotFound(f"conversation {conversation_id} not found")
        message_ids = [m.id for m in conversation.messages]
        risks = {r.message_id: r for r in session.scalars(
            select(RiskScore).where(RiskScore.conversation_id == conversation_id))}
        corrections: dict[int, list[AgentAnnotation]] = {}
        for note in session.scalars(select(AgentAnnotation).where(
                AgentAnnotation.message_id.in_(message_ids)).order_by(AgentAnnotation.id)):
            corrections.setdefault(note.message_id, []).append(note)
        customer = session.get(Customer, conversation.customer_id) if conversation.customer_id else None
        return {
            "id": conversation.id,
            "customer": None if customer is None else
            {"id": customer.id, "name": customer.name, "email": customer.email},
            "channel": conversation.channel,
            "state": conversation.state,
            "risk_level": conversation.risk_level,
            "risk_score": conversation.risk_score,
            "created_at": conversation.created_at,
            "messages": [_message(m, risks.get(m.id), corrections.get(m.id, []))
                         for m in conversation.messages],
            "offers": _offers_by_conversation(session, [conversation.id]).get(conversation.id, []),
        }


def _message(m: Message, risk: RiskScore | None, notes: list[AgentAnnotation]) -> dict[str, Any]:
    return {
        "id": m.id, "role": m.role, "agent": m.agent, "text": m.text, "question": m.question, "state": m.state,
        "error": m.error,
        "created_at": m.created_at, "sources": m.sources or [], "model_id": m.model_id,
        "adapter_version": m.adapter_version, "latency_ms": m.latency_ms, "ttft_ms": m.ttft_ms,
        "risk": None if risk is None else {
            "score": risk.score, "level": risk.level, "reasons": risk.reasons,
            "conversation_score": risk.conversation_score, "conversation_level": risk.conversation_level,
        },
        "corrections": [{"agent": n.agent, "kind": n.kind, "corrected_text": n.corrected_text,
                         "note": n.note, "created_at": n.created_at} for n in notes],
    }


def risk_series(review: dict[str, Any]) -> list[tuple[int, float, float]]:
    """(message number, message risk, conversation risk) for each scored shopper message."""
    return [(n, m["risk"]["score"], m["risk"]["conversation_score"])
            for n, m in enumerate(review["messages"], 1) if m["risk"] is not None]


def export_conversations(sessions: sessionmaker[Session], filters: ReviewFilter) -> list[dict[str, Any]]:
    """Full transcripts of the matching conversations, JSON-ready, for JSONL/CSV export."""
    rows = list_conversations(sessions, filters)
    return [_json_ready(conversation_review(sessions, row["id"])) for row in rows]


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
