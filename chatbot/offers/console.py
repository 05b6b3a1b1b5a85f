"""What the agent console shows about offers: offers by state, and the month's spend
against the policy's budget."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chatbot.offers.ledger import SPENDING, month_spend
from chatbot.offers.policy import HANDOFF, Policy
from shopcore.store.models import OFFER_STATES, RetentionOffer, as_utc, utcnow


def offers_by_state(
    sessions: sessionmaker[Session], state: str | None = None, *, limit: int = 100
) -> list[dict[str, Any]]:
    """Offers (and hand-offs) in this state, newest first; all states if None."""
    if state is not None and state not in OFFER_STATES:
        raise ValueError(f"state must be one of {', '.join(OFFER_STATES)}, not {state!r}")
    query = (
        select(RetentionOffer)
        .order_by(RetentionOffer.created_at.desc(), RetentionOffer.id.desc())
        .limit(limit)
    )
    if state is not None:
        query = query.where(RetentionOffer.state == state)
    with sessions() as session:
        return [_row(offer) for offer in session.scalars(query)]


def budget_spend(
    sessions: sessionmaker[Session], policy: Policy, now: datetime | None = None
) -> dict[str, Any]:
    """This month's expected offer cost by state, against the monthly budget."""
    now = now or utcnow()
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with sessions() as session:
        by_state = dict(
            session.execute(
                select(RetentionOffer.state, func.coalesce(func.sum(RetentionOffer.cost), 0))
                .where(RetentionOffer.created_at >= start, RetentionOffer.kind != HANDOFF)
                .group_by(RetentionOffer.state)
            ).all()
        )
        spent = month_spend(session, now)
    return {
        "month": f"{start:%Y-%m}",
        "currency": policy.currency,
        "budget": float(policy.budget.monthly),
        "committed": float(spent),  # open and redeemed offers
        "remaining": float(policy.budget.monthly - spent),
        "by_state": {state: float(by_state.get(state, 0)) for state in OFFER_STATES},
        "counts_against_budget": list(SPENDING),
    }


def _row(offer: RetentionOffer) -> dict[str, Any]:
    return {
        "code": offer.code,
        "kind": offer.kind,
        "rule": offer.rule,
        "value": float(offer.value),
        "unit": offer.unit,
        "cost": float(offer.cost),
        "state": offer.state,
        "conversation_id": offer.conversation_id,
        "customer_id": offer.customer_id,
        "reasons": list(offer.reasons),
        "created_at": as_utc(offer.created_at).isoformat(),
        "expires_at": as_utc(offer.expires_at).isoformat() if offer.expires_at else None,
        "redeemed_order": offer.redeemed_order,
    }
