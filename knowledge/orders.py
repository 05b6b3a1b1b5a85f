"""A signed-in shopper's own orders as evidence. Orders are read by customer id only, so
nothing a shopper types can bring another customer's order into the prompt."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from chatbot.schemas import Evidence
from chatbot.store.models import Order
from knowledge.documents import order_document

MAX_ORDERS = 5


def order_evidence(
    sessions: sessionmaker[Session], customer_id: int | None, question: str
) -> list[Evidence]:
    """The customer's orders named in the question first, then their most recent ones."""
    if customer_id is None:
        return []
    with sessions() as session:
        orders = session.scalars(
            select(Order)
            .where(Order.customer_id == customer_id)
            .options(selectinload(Order.items))
            .order_by(Order.placed_at.desc())
        ).all()
        named = [o for o in orders if o.number.lower() in question.lower()]
        chosen = named + [o for o in orders if o not in named][: max(0, MAX_ORDERS - len(named))]
        documents = [order_document(order) for order in chosen]
    return [Evidence(d.doc_id, d.title, d.text, 1.0) for d in documents]
