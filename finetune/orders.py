"""Questions about a signed-in shopper's own orders, answered from their order evidence
(the same text `knowledge/orders.py` puts in the prompt)."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from chatbot.store.models import Order
from finetune.draft import CITE, Draft
from finetune.phrasing import variants
from knowledge.documents import order_document

# field of the order evidence -> (questions, answer); {n} is the order number, {v} the value.
ASKS = {
    "Status": (["What's the status of order {n}?", "Where is my order {n}?", "did {n} arrive yet?",
                "Any update on {n}?"], "Your order {n} is {v} {cite}"),
    "Carrier": (["Which carrier is delivering order {n}?", "Who is shipping {n}?"],
                "Your order {n} ships with {v} {cite}"),
    "Tracking number": (["What's the tracking number for {n}?", "Can I get tracking for order {n}?"],
                        "The tracking number for order {n} is {v} {cite}"),
    "Delivered": (["When was order {n} delivered?", "What day did {n} arrive?"],
                  "Order {n} was delivered on {v} {cite}"),
    "Shipped": (["When did order {n} ship?"], "Order {n} shipped on {v} {cite}"),
    "Estimated delivery": (["When will order {n} arrive?", "When should I expect {n}?"],
                           "Order {n} is estimated to arrive on {v} {cite}"),
    "Total": (["How much did I pay for order {n}?", "What was the total of {n}?"],
              "The total for order {n} was {v} {cite}"),
    "Items": (["What was in order {n}?", "What did I buy in {n}?"], "Order {n} contains {v} {cite}"),
    "Note": (["Why is my order {n} {status}?", "What happened with order {n}?"], "{v} {cite}"),
}
LAST_ORDER = ["What's the status of my last order?", "where is my most recent order", "Did my order ship?"]


def order_drafts(sessions: sessionmaker[Session], customer_ids: list[int], rng: random.Random,
                 per_order: int = 2) -> list[Draft]:
    """Drafts for these customers' orders, the order's own evidence as the target."""
    with sessions() as session:
        orders = session.scalars(select(Order).where(Order.customer_id.in_(customer_ids))
                                 .options(selectinload(Order.items))
                                 .order_by(Order.customer_id, Order.placed_at.desc())).all()
        documents = [(o.customer_id, order_document(o)) for o in orders]
    drafts, latest_seen = [], set()
    for customer_id, document in documents:
        fields = dict(line.split(": ", 1) for line in document.text.splitlines() if ": " in line)
        number, target = fields["Order"], (document.doc_id, document.title)
        asked = [f for f in ASKS if f in fields]
        for field in rng.sample(asked, min(per_order, len(asked))):
            questions, answer = ASKS[field]
            value = fields[field].rstrip(".") + ("" if field == "Note" else ".")
            question = rng.choice(questions).format(n=number, status=fields["Status"])
            drafts.append(Draft("order", rng.choice(variants(question, rng, 3)),
                                answer.format(n=number, v=value, cite=CITE), target, customer_id,
                                origin=document.doc_id))
        if customer_id not in latest_seen:  # orders come newest first: this is their last order
            latest_seen.add(customer_id)
            drafts.append(Draft("order", rng.choice(LAST_ORDER),
                                f"Your most recent order, {number}, is {fields['Status']} {CITE}",
                                target, customer_id, origin=document.doc_id))
    return drafts
