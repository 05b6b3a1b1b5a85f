"""One customer's data, on request: everything the desk holds about them as JSON, or all of
it deleted; and conversations deleted once they are older than the retention period.

    python -m chatbot customer export ID     # JSON on standard output
    python -m chatbot customer delete ID     # asks for the id again unless --yes
    python -m chatbot retention              # delete what CHATBOT_RETENTION_DAYS says is too old

The shop's backend does the same over HTTP (`GET`/`DELETE /v1/customers/{id}/data`, with
CHATBOT_BACKEND_API_KEY). Every export and deletion is in the audit log; the log keeps that it
happened, not what was deleted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from chatbot.audit import note
from chatbot.errors import UnknownCustomer
from shopcore.store.db import transaction
from shopcore.store.models import (
    AgentAnnotation,
    Conversation,
    ConversationRating,
    Customer,
    HandoffRequest,
    Message,
    Order,
    RetentionOffer,
    RiskScore,
    utcnow,
)


def export_customer(sessions: sessionmaker[Session], customer_id: int, actor: str) -> dict[str, Any]:
    """Everything the desk holds about one customer: profile, orders, conversations with
    their messages, risk scores, requests for a person (with any e-mail address left there)
    and ratings, corrections, and retention offers."""
    with transaction(sessions) as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise UnknownCustomer(f"customer {customer_id} does not exist")
        orders = session.scalars(select(Order).where(Order.customer_id == customer_id).order_by(Order.id)).all()
        conversations = session.scalars(select(Conversation).where(Conversation.customer_id == customer_id)
                                        .order_by(Conversation.created_at)).all()
        ids = [c.id for c in conversations]
        messages = session.scalars(select(Message).where(Message.conversation_id.in_(ids)).order_by(Message.id)).all()
        scores = {r.message_id: r for r in session.scalars(select(RiskScore).where(RiskScore.conversation_id.in_(ids)))}
        corrections = session.scalars(select(AgentAnnotation).join(Message).where(Message.conversation_id.in_(ids))).all()
        handoffs = session.scalars(select(HandoffRequest).where(HandoffRequest.conversation_id.in_(ids))
                                   .order_by(HandoffRequest.id)).all()
        ratings = {r.conversation_id: r for r in session.scalars(
            select(ConversationRating).where(ConversationRating.conversation_id.in_(ids)))}
        offers = session.scalars(select(RetentionOffer).where(RetentionOffer.customer_id == customer_id)
                                 .order_by(RetentionOffer.id)).all()
        note(session, actor, "customer_export", customer_id=customer_id)
        return {
            "customer": {"id": customer.id, "name": customer.name, "email": customer.email,
                         "country": customer.country, "region": customer.region,
                         "created_at": customer.created_at.isoformat(), "loyalty_tier": customer.loyalty_tier,
                         "loyalty_points": customer.loyalty_points},
            "orders": [{"number": o.number, "status": o.status, "total": str(o.total),
                        "placed_at": o.placed_at.isoformat(),
                        "items": [{"sku": i.sku, "name": i.name, "size": i.size, "colour": i.colour,
                                   "quantity": i.quantity} for i in o.items]} for o in orders],
            "conversations": [{
                "id": c.id, "channel": c.channel, "state": c.state, "created_at": c.created_at.isoformat(),
                "messages": [{"id": m.id, "role": m.role, "text": m.text, "state": m.state,
                              "created_at": m.created_at.isoformat(),
                              **({"understood_as": m.question} if m.question else {}),
                              **({"risk": {"score": scores[m.id].score, "level": scores[m.id].level,
                                           "reasons": scores[m.id].message_reasons}} if m.id in scores else {})}
                             for m in messages if m.conversation_id == c.id],
                "handoffs": [{"reason": h.reason, "state": h.state, "agent": h.agent,
                              "contact_email": h.contact_email, "created_at": h.created_at.isoformat()}
                             for h in handoffs if h.conversation_id == c.id],
                "rating": ({"score": ratings[c.id].score, "comment": ratings[c.id].comment,
                            "created_at": ratings[c.id].created_at.isoformat()} if c.id in ratings else None),
            } for c in conversations],
            "corrections": [{"message_id": a.message_id, "agent": a.agent, "corrected_text": a.corrected_text,
                             "created_at": a.created_at.isoformat()} for a in corrections],
            "offers": [{"code": o.code, "kind": o.kind, "value": str(o.value), "unit": o.unit, "state": o.state,
                        "created_at": o.created_at.isoformat()} for o in offers],
        }


def delete_customer(sessions: sessionmaker[Session], customer_id: int, actor: str) -> dict[str, int]:
    """Delete one customer's conversations (messages, risk scores, corrections, offers),
    orders and profile; return how many of each went."""
    with transaction(sessions) as session:
        if session.get(Customer, customer_id) is None:
            raise UnknownCustomer(f"customer {customer_id} does not exist")
        ids = list(session.scalars(select(Conversation.id).where(Conversation.customer_id == customer_id)))
        counts = _delete_conversations(session, ids)
        counts["offers"] += session.execute(delete(RetentionOffer).where(RetentionOffer.customer_id == customer_id)).rowcount
        orders = list(session.scalars(select(Order).where(Order.customer_id == customer_id)))
        for order in orders:  # its items go with it (ORM cascade)
            session.delete(order)
        session.flush()
        session.execute(delete(Customer).where(Customer.id == customer_id))
        counts |= {"orders": len(orders), "customers": 1}
        note(session, actor, "customer_delete", customer_id=customer_id, **counts)
        return counts


def delete_old_conversations(sessions: sessionmaker[Session], days: int) -> int:
    """Delete conversations whose last message is more than `days` old; return how many."""
    cutoff = utcnow() - timedelta(days=days)
    with transaction(sessions) as session:
        ids = list(session.scalars(select(Conversation.id).where(Conversation.updated_at < cutoff)))
        if ids:
            counts = _delete_conversations(session, ids)
            note(session, "retention", "retention_delete", days=days, **counts)
        return len(ids)


def _delete_conversations(session: Session, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {"conversations": 0, "messages": 0, "offers": 0}
    in_them = Message.conversation_id.in_(ids)
    message_ids = select(Message.id).where(in_them)
    session.execute(update(Message).where(in_them).values(reply_to_id=None))
    session.execute(delete(AgentAnnotation).where(AgentAnnotation.message_id.in_(message_ids)))
    session.execute(delete(RiskScore).where(RiskScore.conversation_id.in_(ids)))
    offers = session.execute(delete(RetentionOffer).where(RetentionOffer.conversation_id.in_(ids))).rowcount
    messages = session.execute(delete(Message).where(in_them)).rowcount
    conversations = session.execute(delete(Conversation).where(Conversation.id.in_(ids))).rowcount
    return {"conversations": conversations, "messages": messages, "offers": offers}
