"""Agents' corrections from the store: the shopper's message that a bot answer replied to,
paired with the answer an agent wrote instead. They are learned verbatim and win over any
generated example with the same question."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from shopcore.store.models import AgentAnnotation, Conversation, Message
from finetune.draft import Draft


def correction_drafts(sessions: sessionmaker[Session]) -> list[Draft]:
    """One draft per corrected bot answer, from its newest correction."""
    answer, question = aliased(Message), aliased(Message)
    with sessions() as session:
        rows = session.execute(
            select(AgentAnnotation.id, AgentAnnotation.message_id, AgentAnnotation.corrected_text,
                   question.text, Conversation.customer_id)
            .join(answer, AgentAnnotation.message_id == answer.id)
            .join(question, answer.reply_to_id == question.id)
            .join(Conversation, answer.conversation_id == Conversation.id)
            .where(AgentAnnotation.kind == "correction", AgentAnnotation.corrected_text.is_not(None))
            .order_by(AgentAnnotation.created_at, AgentAnnotation.id)
        ).all()
    newest = {message_id: row for row in rows for message_id in [row[1]]}  # later rows win
    return [Draft("correction", text, corrected.strip(), None, customer_id, origin=f"annotation {note_id}")
            for note_id, _, corrected, text, customer_id in newest.values() if text and corrected.strip()]
