"""Step 6 of a turn: decide by policy, then record the offer exactly once.

"Exactly once" is the database's job, not a read-then-write: each conversation is one
trigger (`offer:<conversation>` for a retention offer, `handoff:<conversation>` for a
hand-off), `retention_offers.trigger_key` is unique, and a second request for the same
trigger, however close behind the first, fails its INSERT and gets the first one's record
back. The insert comes first in its transaction; on SQLite that takes the write lock, on
PostgreSQL an advisory lock is taken next, so the per-customer cap and the monthly budget
are counted while no other offer can be written, and a breach rolls the insert back.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from chatbot.offers.policy import HANDOFF, OfferSpec, Policy, Rule, TurnRisk, choose
from shopcore.schemas import Offer
from chatbot.conversations import TurnStart
from shopcore.store.db import transaction
from shopcore.store.models import (
    Conversation,
    Order,
    RetentionOffer,
    RiskScore,
    as_utc,
    utcnow,
)

# States whose expected cost counts against the month's budget (declined and expired
# offers give it back).
SPENDING = ("offered", "accepted", "redeemed")
UNITS = {"percent_discount": "percent", "loyalty_points": "points"}
# No 0/O, 1/I/L: codes get read aloud and typed.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LOCK_ID = 512026  # any constant: names the PostgreSQL advisory lock that guards offer limits


class _Refused(Exception):
    """A cap or the budget would be exceeded: roll the insert back."""


def make_offer(
    policy: Policy,
    sessions: sessionmaker[Session],
    start: TurnStart,
    customer_id: int | None,
    now: datetime | None = None,
) -> Offer | None:
    """Choose and record the offer this turn's stored risk calls for; None if none is new."""
    now = now or utcnow()
    with sessions() as session:
        score = session.scalar(select(RiskScore).where(RiskScore.message_id == start.message_id))
        if score is None:
            return None
        earlier = session.scalar(
            select(RiskScore.reasons)
            .where(
                RiskScore.conversation_id == start.conversation_id,
                RiskScore.message_id < start.message_id,
            )
            .order_by(RiskScore.message_id.desc())
            .limit(1)
        )
        risk = TurnRisk(
            score.conversation_level,
            tuple(score.reasons),
            score.level,
            tuple(score.message_reasons),
            tuple(earlier or ()),
        )
        rule = choose(policy, risk, signed_in=customer_id is not None)
        if rule is None:
            return None
        spec = policy.offers[rule.offer]
        cost = estimate_cost(session, spec, customer_id, policy)
    offer, created = record_offer(
        sessions, policy, rule, start, customer_id, risk.reasons, cost, now
    )
    return offer if created else None


def record_offer(
    sessions: sessionmaker[Session],
    policy: Policy,
    rule: Rule,
    start: TurnStart,
    customer_id: int | None,
    reasons: tuple[str, ...],
    cost: Decimal,
    now: datetime,
) -> tuple[Offer | None, bool]:
    """Insert the offer for this conversation's trigger; (offer, True) if this call made it,
    (existing offer, False) if the trigger was already used, (None, False) if refused."""
    spec = policy.offers[rule.offer]
    trigger = f"{'handoff' if spec.kind == HANDOFF else 'offer'}:{start.conversation_id}"
    for _ in range(3):  # a fresh code on the (astronomically rare) code collision
        try:
            with transaction(sessions) as session:
                row = _new_row(policy, rule, spec, trigger, start, customer_id, reasons, cost, now)
                session.add(row)
                session.flush()  # the trigger's uniqueness is decided here
                if spec.kind == HANDOFF:
                    # A person takes over; the bot stays quiet in this conversation from now on.
                    session.get(Conversation, start.conversation_id).state = "agent"
                else:
                    _check_limits(session, policy, customer_id, now)
                return public(row), True
        except _Refused:
            return None, False
        except IntegrityError:
            with sessions() as session:
                existing = session.scalar(
                    select(RetentionOffer).where(RetentionOffer.trigger_key == trigger)
                )
                if existing is not None:
                    return public(existing), False
    raise RuntimeError("could not generate an unused offer code")


def _new_row(
    policy: Policy,
    rule: Rule,
    spec: OfferSpec,
    trigger: str,
    start: TurnStart,
    customer_id: int | None,
    reasons: tuple[str, ...],
    cost: Decimal,
    now: datetime,
) -> RetentionOffer:
    handoff = spec.kind == HANDOFF
    return RetentionOffer(
        trigger_key=trigger,
        conversation_id=start.conversation_id,
        customer_id=customer_id,
        message_id=start.message_id,
        rule=rule.name,
        kind=spec.kind,
        code=None if handoff else new_code(policy.code_prefix),
        value=spec.value,
        unit=policy.currency if spec.kind == "fixed_discount" else UNITS.get(spec.kind, ""),
        cost=Decimal("0") if handoff else cost,
        terms=spec.terms,
        reasons=list(reasons),
        state="offered",
        created_at=now,
        updated_at=now,
        expires_at=None
        if handoff
        else now + timedelta(days=spec.expiry_days or policy.expiry_days),
    )


def _check_limits(session: Session, policy: Policy, customer_id: int | None, now: datetime) -> None:
    if session.bind.dialect.name == "postgresql":
        # Serialise offer writers until commit; the count below then sees every offer.
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
    if customer_id is not None:
        recent = session.scalar(
            select(func.count())
            .select_from(RetentionOffer)
            .where(
                RetentionOffer.customer_id == customer_id,
                RetentionOffer.kind != HANDOFF,
                RetentionOffer.created_at >= now - timedelta(days=policy.caps.window_days),
            )
        )
        if recent > policy.caps.per_customer:
            raise _Refused(f"customer {customer_id} already has {recent - 1} offers")
    if month_spend(session, now) > policy.budget.monthly:
        raise _Refused("the monthly budget is spent")


def month_spend(session: Session, now: datetime) -> Decimal:
    """Expected cost of this month's offers that are still open or were used."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    total = session.scalar(
        select(func.coalesce(func.sum(RetentionOffer.cost), 0)).where(
            RetentionOffer.created_at >= start, RetentionOffer.state.in_(SPENDING)
        )
    )
    return Decimal(str(total))


def estimate_cost(
    session: Session, spec: OfferSpec, customer_id: int | None, policy: Policy
) -> Decimal:
    """What the offer is expected to cost the shop, for the budget."""
    if spec.cost is not None:
        return spec.cost
    if spec.kind == "percent_discount":
        average = None
        if customer_id is not None:
            average = session.scalar(
                select(func.avg(Order.total)).where(
                    Order.customer_id == customer_id, Order.status.not_in(("cancelled", "refunded"))
                )
            )
        basis = Decimal(str(average)) if average is not None else policy.budget.average_order_value
        return (basis * spec.value / 100).quantize(Decimal("0.01"))
    if spec.kind == "fixed_discount":
        return spec.value
    return Decimal("0")


def new_code(prefix: str) -> str:
    """An unguessable code: 12 characters from a 31-letter alphabet (about 59 bits)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(12))
    return f"{prefix}{body[:4]}-{body[4:8]}-{body[8:]}"


def public(row: RetentionOffer) -> Offer:
    return Offer(
        code=row.code,
        kind=row.kind,
        value=float(row.value),
        unit=row.unit,
        terms=row.terms,
        expires_at=as_utc(row.expires_at).isoformat() if row.expires_at else None,
        state=row.state,
    )
