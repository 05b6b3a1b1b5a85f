"""What the agent console shows about risk: conversations by risk level, riskiest first,
with the reasons behind each score."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shopcore.store.models import RISK_LEVELS, Conversation, RiskScore


def conversations_by_risk(
    sessions: sessionmaker[Session], level: str | None = None, *, limit: int = 50
) -> list[dict[str, Any]]:
    """Conversations at this risk level (all levels if None), riskiest and newest first."""
    if level is not None and level not in RISK_LEVELS:
        raise ValueError(f"level must be one of {', '.join(RISK_LEVELS)}, not {level!r}")
    latest = (
        select(RiskScore.conversation_id, func.max(RiskScore.id).label("id"))
        .group_by(RiskScore.conversation_id)
        .subquery()
    )
    query = (
        select(Conversation, RiskScore)
        .join(latest, latest.c.conversation_id == Conversation.id)
        .join(RiskScore, RiskScore.id == latest.c.id)
        .order_by(Conversation.risk_score.desc(), Conversation.updated_at.desc())
        .limit(limit)
    )
    if level is not None:
        query = query.where(Conversation.risk_level == level)
    with sessions() as session:
        return [
            {
                "conversation_id": conversation.id,
                "customer_id": conversation.customer_id,
                "state": conversation.state,
                "risk_score": conversation.risk_score,
                "risk_level": conversation.risk_level,
                "reasons": list(score.reasons),
                "last_message_score": score.score,
                "updated_at": conversation.updated_at.isoformat(),
            }
            for conversation, score in session.execute(query)
        ]
