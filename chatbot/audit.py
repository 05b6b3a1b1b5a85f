"""The audit log: who did what to shoppers' data, one AuditEvent per action.

    python -m chatbot audit [--limit 50]      # the newest events, newest first

An action and its record are written in the same transaction (`note`), so neither exists
without the other; actions without a transaction of their own (login, export) use `record`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shopcore.store.db import transaction
from shopcore.store.models import AuditEvent


def note(session: Session, actor: str, action: str, *, conversation_id: str | None = None,
         message_id: int | None = None, customer_id: int | None = None, **detail: Any) -> None:
    """Add an audit event to the caller's open transaction."""
    session.add(AuditEvent(actor=actor, action=action, conversation_id=conversation_id,
                           message_id=message_id, customer_id=customer_id, detail=detail))


def record(sessions: sessionmaker[Session], actor: str, action: str, **refs: Any) -> None:
    """Write one audit event in its own transaction."""
    with transaction(sessions) as session:
        note(session, actor, action, **refs)


def recent(sessions: sessionmaker[Session], limit: int = 50) -> list[dict[str, Any]]:
    """The newest events, newest first, as plain dicts."""
    with sessions() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)).all()
        return [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                 "conversation_id": e.conversation_id, "message_id": e.message_id,
                 "customer_id": e.customer_id, **({"detail": e.detail} if e.detail else {})} for e in events]


def agent(name: str) -> str:
    return f"agent:{name}"
