"""An offer's life after it is made: accepted, declined, redeemed at the shop's checkout, or
expired.

    offered --accept--> accepted --redeem--> redeemed
    offered --decline--> declined            offered/accepted --(time)--> expired
    offered --redeem--> redeemed             (a code can be used without being accepted)

Each move is one conditional UPDATE (`... WHERE code = :code AND state IN (allowed)`), so
two checkouts racing to use the same code redeem it once: the second finds nothing left to
update and is told why.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from chatbot.errors import OfferNotFound, OfferUnavailable
from chatbot.offers.ledger import public
from chatbot.offers.policy import HANDOFF
from shopcore.schemas import Offer
from shopcore.store.db import transaction
from shopcore.store.models import RetentionOffer, as_utc, utcnow

ALLOWED_FROM = {
    "accepted": ("offered",),
    "declined": ("offered",),
    "redeemed": ("offered", "accepted"),
    "expired": ("offered", "accepted"),
}


def accept_offer(
    sessions: sessionmaker[Session],
    code: str,
    *,
    customer_id: int | None,
    now: datetime | None = None,
) -> Offer:
    """The shopper takes the offer."""
    return _move(sessions, code, "accepted", customer_id, now or utcnow())


def decline_offer(
    sessions: sessionmaker[Session],
    code: str,
    *,
    customer_id: int | None,
    now: datetime | None = None,
) -> Offer:
    """The shopper turns the offer down; its cost goes back to the month's budget."""
    return _move(sessions, code, "declined", customer_id, now or utcnow())


def redeem_offer(
    sessions: sessionmaker[Session],
    code: str,
    *,
    customer_id: int | None,
    order_number: str | None = None,
    now: datetime | None = None,
) -> Offer:
    """Use a code at the shop's checkout, once, by the customer it was made for."""
    now = now or utcnow()
    return _move(
        sessions, code, "redeemed", customer_id, now, redeemed_at=now, redeemed_order=order_number
    )


def expire_offers(sessions: sessionmaker[Session], now: datetime | None = None) -> int:
    """Mark every open offer past its expiry as expired; return how many."""
    with transaction(sessions) as session:
        result = session.execute(
            update(RetentionOffer)
            .where(
                RetentionOffer.state.in_(ALLOWED_FROM["expired"]),
                RetentionOffer.expires_at <= (now or utcnow()),
            )
            .values(state="expired", updated_at=now or utcnow())
        )
        return result.rowcount


def _move(
    sessions: sessionmaker[Session],
    code: str,
    state: str,
    customer_id: int | None,
    now: datetime,
    **values,
) -> Offer:
    code = (code or "").strip().upper()
    with transaction(sessions) as session:
        row = session.scalar(select(RetentionOffer).where(RetentionOffer.code == code))
        # Someone else's code looks exactly like a missing one: codes are not an oracle.
        if row is None or row.kind == HANDOFF or row.customer_id != customer_id:
            raise OfferNotFound(f"no offer {code!r} for this customer")
        expired = row.expires_at is not None and as_utc(row.expires_at) <= now
        target = "expired" if expired else state
        moved = session.execute(
            update(RetentionOffer)
            .where(RetentionOffer.id == row.id, RetentionOffer.state.in_(ALLOWED_FROM[target]))
            .values(state=target, updated_at=now, **({} if expired else values))
        ).rowcount
        session.refresh(row)
    if expired:
        raise OfferUnavailable(f"offer {code} expired on {as_utc(row.expires_at):%Y-%m-%d}")
    if moved != 1:
        raise OfferUnavailable(f"offer {code} is {row.state} and cannot be {state}")
    return public(row)
