"""Questions about a signed-in shopper's own orders, answered from their order evidence
(the same text `knowledge/orders.py` puts in the prompt)."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from shopcore.store.models import Order
from finetune.draft import CITE, Draft
from knowledge.phrasing import variants
from knowledge.documents import order_document

# field of the order evidence -> (questions, answer); {n} is the order number, {v} the value.
# The status is answered by where_it_is.
ASKS = {
    "Status": (["What's the status of order {n}?", "Where is my order {n}?", "did {n} arrive yet?",
                "Any update on {n}?"], None),
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
# What follows the status word (statuses of chatbot/store/models.py): order evidence fields,
# each said by its clause (with the separator before it), where the order has them.
_CARRIED = (("Carrier", " with {v}"), ("Tracking number", ", tracking number {v}"))
_ARRIVING = (("Estimated delivery", ", estimated delivery {v}"),)
AFTER_STATUS = {"shipped": _CARRIED + _ARRIVING, "delayed": _CARRIED + _ARRIVING,
                "processing": _ARRIVING, "delivered": _CARRIED}
# How a status answer names the order: by its number, or as the shopper's latest one when
# they named none.
NAMED, LATEST = "Your order {n}", "Your most recent order, {n},"


def order_drafts(sessions: sessionmaker[Session], customer_ids: list[int], rng: random.Random,
                 per_order: int = 2) -> list[Draft]:
    """Drafts for these customers' orders, the order's own evidence as the target: where each
    order is (what shoppers ask most) and per_order - 1 questions about its other fields."""
    with sessions() as session:
        orders = session.scalars(select(Order).where(Order.customer_id.in_(customer_ids))
                                 .options(selectinload(Order.items))
                                 .order_by(Order.customer_id, Order.placed_at.desc())).all()
        documents = [(o.customer_id, order_document(o)) for o in orders]
    drafts, latest_seen = [], set()
    for customer_id, document in documents:
        fields = order_fields(document.text)
        number, target = fields["Order"], (document.doc_id, document.title)
        others = [f for f in ASKS if f in fields and f != "Status"]
        for field in ["Status"] + rng.sample(others, min(per_order - 1, len(others))):
            question = rng.choice(ASKS[field][0]).format(n=number, status=fields["Status"])
            drafts.append(Draft("order", rng.choice(variants(question, rng, 3)), field_answer(field, fields),
                                target, customer_id, origin=document.doc_id))
        if customer_id not in latest_seen:  # orders come newest first: this is their last order
            latest_seen.add(customer_id)
            drafts.append(Draft("order", rng.choice(LAST_ORDER), where_it_is(fields, latest=True), target,
                                customer_id, origin=document.doc_id))
    return drafts


def order_fields(text: str) -> dict[str, str]:
    """The "Field: value" lines of an order's evidence (knowledge/documents.py), by field."""
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


def stating(fields: dict[str, str], fact: str, *, latest: bool = False) -> str | None:
    """The answer these drafts give that states fact (any order question, the dev set's
    too, answered in one voice): where the order is, when that says it, else the answer
    about the field holding it. None if the order does not state fact."""
    fact = fact.lower()
    candidates = [where_it_is(fields, latest=latest)] + [field_answer(f, fields) for f in ASKS if f in fields]
    return next((answer for answer in candidates if fact in answer.lower()), None)


def field_answer(field: str, fields: dict[str, str]) -> str:
    """The answer to a question about one field of the order ("Status": where it is)."""
    if field == "Status":
        return where_it_is(fields)
    value = fields[field].rstrip(".") + ("" if field == "Note" else ".")
    return ASKS[field][1].format(n=fields["Order"], v=value, cite=CITE)


def where_it_is(fields: dict[str, str], *, latest: bool = False) -> str:
    """The order's status ("your most recent order" when the shopper did not name it) with
    what a shopper asking "where is my order" wants next (AFTER_STATUS: while it is on its
    way, its carrier, tracking number and estimated delivery; once delivered, the carrier and
    tracking number it came with), then the note on the order
    (why it is delayed, what happened to a return). One sentence up to the note, and never
    the bare status: what follows hangs on the status word itself ("shipped with",
    "cancelled —"), or the order "was delivered on" its date, so the adapter does not learn
    to stop after the status word."""
    status, subject = fields["Status"], (LATEST if latest else NAMED).format(n=fields["Order"])
    if status == "delivered" and "Delivered" in fields:
        # Its date and another verb, so no order on its way reads "is shipped — it arrived
        # on <its ship date>".
        said = f"{subject} was delivered on {fields['Delivered']}"
    else:
        said = f"{subject} is {status}"
    said += "".join(clause.format(v=fields[field]) for field, clause in AFTER_STATUS.get(status, ()) if field in fields)
    note = fields.get("Note", "").rstrip(".")
    if note:
        said += f" — {note[0].lower() + note[1:] if note[1:2].islower() else note}"
    return f"{said}. {CITE}"
