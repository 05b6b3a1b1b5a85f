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
            questions, template = ASKS[field]
            value = fields[field].rstrip(".") + ("" if field == "Note" else ".")
            question = rng.choice(questions).format(n=number, status=fields["Status"])
            answer = template.format(n=number, v=value, cite=CITE)
            if field == "Status":
                answer = where_it_is(answer, fields)
            drafts.append(Draft("order", rng.choice(variants(question, rng, 3)), answer, target, customer_id,
                                origin=document.doc_id))
        if customer_id not in latest_seen:  # orders come newest first: this is their last order
            latest_seen.add(customer_id)
            answer = where_it_is(f"Your most recent order, {number}, is {fields['Status']}. {CITE}", fields)
            drafts.append(Draft("order", rng.choice(LAST_ORDER), answer, target, customer_id,
                                origin=document.doc_id))
    return drafts


def where_it_is(answer: str, fields: dict[str, str]) -> str:
    """A status answer with what a shopper asking "where is my order" wants next: the note on
    the order (why it is delayed, what happened to a return) and, until it is delivered, its
    carrier and tracking number and when it should arrive."""
    said = [answer.replace(CITE, "").strip()]
    if "Note" in fields:
        said.append(fields["Note"].rstrip(".") + ".")
    if "Tracking number" in fields and "Delivered" not in fields:
        carrier = f"with {fields['Carrier']}, " if "Carrier" in fields else ""
        said.append(f"It ships {carrier}tracking number {fields['Tracking number']}.")
        if "Estimated delivery" in fields:
            said.append(f"Estimated delivery: {fields['Estimated delivery']}.")
    return " ".join(said) + f" {CITE}"
