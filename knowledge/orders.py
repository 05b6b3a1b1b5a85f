"""A signed-in shopper's own orders as evidence.

Orders are selected by customer id only, in SQL with a bound parameter; the question is
never put into a query. An order number in the question only picks among the shopper's own
orders, so naming another customer's order, asking for "all orders" or typing SQL brings
nothing of anyone else's into the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from shopcore.schemas import Evidence
from shopcore.store.models import Order
from knowledge.documents import order_document

MAX_ORDERS = 5
# "my last order", "most recent purchase": the newest order, named without its number.
LATEST = re.compile(r"\b(?:last|latest|most recent|newest|recent)\s+(?:order|purchase|package|parcel|delivery)\b",
                    re.IGNORECASE)


def order_evidence(
    sessions: sessionmaker[Session],
    customer_id: int | None,
    question: str,
    relevance: Callable[[str, str], float] | None = None,
) -> list[Evidence]:
    """The customer's orders named in the question first (relevance 1.0; "my last order"
    names the newest), then their most recent ones, scored by relevance(question, order
    text) when given, else 1.0."""
    if customer_id is None:
        return []
    with sessions() as session:
        orders = session.scalars(
            select(Order)
            .where(Order.customer_id == customer_id)
            .options(selectinload(Order.items))
            .order_by(Order.placed_at.desc())
        ).all()
        named = [o for o in orders if names(question, o.number)]
        if not named and orders and LATEST.search(question):
            named = orders[:1]
        recent = [o for o in orders if o not in named][: max(0, MAX_ORDERS - len(named))]
        documents = [(order_document(o), True) for o in named] + [(order_document(o), False) for o in recent]
    return [
        Evidence(d.doc_id, d.title, d.text,
                 1.0 if is_named or relevance is None else round(relevance(question, f"{d.title}\n{d.text}"), 4))
        for d, is_named in documents
    ]


def names(question: str, number: str) -> bool:
    """Whether the question names this order number as a whole word (A104 is not A1042)."""
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(number)}(?![A-Za-z0-9])", question, re.IGNORECASE) is not None
