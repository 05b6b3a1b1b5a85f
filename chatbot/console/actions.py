"""What an agent does to a conversation: claim it from the waiting queue or take it over
from the bot (the pipeline then stays quiet), reply to the shopper as a person, resolve it
or hand it back, and correct a bot answer so the correction lands in the next fine-tuning
set (finetune/ reads AgentAnnotation). Each action is written to the audit log, and each
change of the hand-off's state to the conversation's timeline (chatbot/inbox.py), in the
same transaction as the action.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from chatbot import audit, inbox
from chatbot.errors import ConversationNotFound, DeskError, InvalidMessage
from shopcore.store.db import transaction
from shopcore.store.models import AgentAnnotation, Conversation, Message

MAX_AGENT_TEXT = 10_000


class NotABotAnswer(DeskError):
    """Only the bot's own answers can be corrected."""

    status = 422


def claim(sessions: sessionmaker[Session], conversation_id: str, agent: str) -> None:
    """Take a waiting conversation from the queue; inbox.AlreadyClaimed if another agent did first."""
    inbox.claim(sessions, conversation_id, agent)


def take_over(sessions: sessionmaker[Session], conversation_id: str, agent: str) -> None:
    """A person answers this conversation from now on; the bot stops."""
    with transaction(sessions) as session:
        _conversation(session, conversation_id)
        inbox.take_over(session, conversation_id, agent)
        audit.note(session, audit.agent(agent), "take_over", conversation_id=conversation_id)


def hand_back(sessions: sessionmaker[Session], conversation_id: str, agent: str) -> None:
    """The bot answers this conversation again (an open hand-off is returned, not resolved)."""
    with transaction(sessions) as session:
        _conversation(session, conversation_id)
        inbox.finish(session, conversation_id, audit.agent(agent), resolved=False)
        audit.note(session, audit.agent(agent), "hand_back", conversation_id=conversation_id)


def resolve(sessions: sessionmaker[Session], conversation_id: str, agent: str) -> None:
    """The person is done: the hand-off is resolved, the bot answers again, the shopper may rate."""
    with transaction(sessions) as session:
        _conversation(session, conversation_id)
        inbox.finish(session, conversation_id, audit.agent(agent), resolved=True)
        audit.note(session, audit.agent(agent), "resolve", conversation_id=conversation_id)


def agent_reply(sessions: sessionmaker[Session], conversation_id: str, agent: str, text: str) -> int:
    """Store a person's reply (role "agent"); the shopper's widget shows it. Takes over first."""
    text = _clean(text)
    with transaction(sessions) as session:
        conversation = _conversation(session, conversation_id)
        # Replying as a person means the bot must not answer over them: the agent has it now.
        request = inbox.open_request_in(session, conversation_id)
        if conversation.state != "agent" or request is None or request.state == "waiting":
            inbox.take_over(session, conversation_id, agent)
        message = Message(conversation_id=conversation_id, role="agent", text=text, agent=agent)
        session.add(message)
        session.flush()
        inbox.agent_replied(session, conversation_id, agent, message.id)
        audit.note(session, audit.agent(agent), "reply", conversation_id=conversation_id, message_id=message.id)
        return message.id


def correct_answer(sessions: sessionmaker[Session], conversation_id: str, message_id: int, agent: str,
                   corrected_text: str, note: str | None = None) -> int:
    """Record what the bot should have said; the fine-tuning data builder reads these."""
    corrected_text = _clean(corrected_text)
    with transaction(sessions) as session:
        message = session.get(Message, message_id)
        if message is None or message.conversation_id != conversation_id or message.role != "assistant":
            raise NotABotAnswer(f"message {message_id} is not a bot answer in this conversation")
        annotation = AgentAnnotation(message_id=message_id, agent=agent, kind="correction",
                                     corrected_text=corrected_text, note=(note or "").strip() or None)
        session.add(annotation)
        session.flush()
        audit.note(session, audit.agent(agent), "correct", conversation_id=conversation_id, message_id=message_id)
        return annotation.id


def _conversation(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound(f"conversation {conversation_id} not found")
    return conversation


def _clean(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidMessage("the text is empty")
    if len(text) > MAX_AGENT_TEXT:
        raise InvalidMessage(f"the text is {len(text)} characters; the limit is {MAX_AGENT_TEXT}")
    return text
