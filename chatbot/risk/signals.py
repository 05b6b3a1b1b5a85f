"""What the store knows about a conversation beyond the message itself: earlier turns and
their risk, replies where the bot could not help, the shopper's own orders that went wrong,
and how valuable the customer is.

Orders and value are read by the signed-in customer id only; an order number typed in the
chat never counts (anyone can type one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.risk.lexicon import Signals
from shopcore.store.models import Customer, Message, Order, RiskScore, as_utc, utcnow

ORDER_LATE = "order:late"
ORDER_LOST = "order:lost"
HIGH_VALUE = "value:high"
RECENT_DAYS = 90


@dataclass(frozen=True)
class CustomerValue:
    orders: int
    spend: Decimal
    tenure_days: int
    average_order: Decimal | None


@dataclass(frozen=True)
class ConversationFacts:
    previous_score: float  # the conversation score after the last scored turn
    previous_reasons: tuple[str, ...]  # the conversation's reasons so far
    earlier_questions: list[str]  # the shopper's earlier messages, oldest first
    unanswered: int  # replies to the previous turn where the bot handed off, refused or failed
    order_reasons: tuple[str, ...]  # order:late / order:lost from the shopper's own orders
    value: CustomerValue | None  # None for anonymous shoppers


def conversation_facts(
    session: Session,
    conversation_id: str,
    message_id: int,
    customer_id: int | None,
    signals: Signals,
) -> ConversationFacts:
    """Everything before message_id in this conversation, and the customer's orders."""
    last = session.scalars(
        select(RiskScore)
        .where(RiskScore.conversation_id == conversation_id, RiskScore.message_id < message_id)
        .order_by(RiskScore.message_id.desc())
        .limit(1)
    ).first()
    earlier = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.id < message_id)
        .order_by(Message.id)
    ).all()
    questions = [m.text for m in earlier if m.role == "user"]
    last_user = max((m.id for m in earlier if m.role == "user"), default=None)
    replies = [
        m for m in earlier if m.role == "assistant" and last_user and m.reply_to_id == last_user
    ]
    unanswered = sum(_unanswered(m, signals.unanswered_guardrails) for m in replies)
    orders = (
        []
        if customer_id is None
        else session.scalars(select(Order).where(Order.customer_id == customer_id)).all()
    )
    customer = None if customer_id is None else session.get(Customer, customer_id)
    return ConversationFacts(
        previous_score=last.conversation_score if last else 0.0,
        previous_reasons=tuple(last.reasons) if last else (),
        earlier_questions=questions,
        unanswered=unanswered,
        order_reasons=order_reasons(orders, signals),
        value=customer_value(customer, orders) if customer else None,
    )


def _unanswered(message: Message, actions: list[str]) -> bool:
    # The generation step records what its guardrails did in `guardrail`, e.g.
    # {"action": "handoff"}; a failed generation is a reply the shopper did not get either.
    if message.state == "error":
        return True
    guardrail = message.guardrail or {}
    return any(str(guardrail.get(key, "")).lower() in actions for key in ("action", "kind", "type"))


def order_reasons(
    orders: list[Order], signals: Signals, now: datetime | None = None
) -> tuple[str, ...]:
    """order:late when an order is delayed or past its estimate, order:lost for a recent loss."""
    now = now or utcnow()
    late = lost = False
    for order in orders:
        overdue = (
            order.status == "shipped"
            and order.estimated_delivery is not None
            and (now.date() - order.estimated_delivery).days > signals.late_after_days
        )
        late = late or order.status == "delayed" or overdue
        note = (order.status_note or "").lower()
        recent = as_utc(order.placed_at) >= now - timedelta(days=RECENT_DAYS)
        lost = lost or (recent and any(p.lower() in note for p in signals.lost_note_patterns))
    return tuple(reason for reason, on in ((ORDER_LATE, late), (ORDER_LOST, lost)) if on)


def customer_value(
    customer: Customer, orders: list[Order], now: datetime | None = None
) -> CustomerValue:
    """Orders that went through, what they came to, and how long the customer has been with us."""
    kept = [o for o in orders if o.status not in ("cancelled", "refunded")]
    spend = sum((o.total for o in kept), Decimal("0"))
    tenure = ((now or utcnow()) - as_utc(customer.created_at)).days
    return CustomerValue(len(kept), spend, max(0, tenure), spend / len(kept) if kept else None)


def is_high_value(value: CustomerValue | None, signals: Signals) -> bool:
    if value is None:
        return False
    return (
        value.spend >= Decimal(str(signals.high_value_spend))
        or value.orders >= signals.high_value_orders
        or (value.tenure_days >= signals.high_value_tenure_days and value.orders >= 2)
    )
