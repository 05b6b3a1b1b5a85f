"""The inbox: a hand-off is a request on the conversation that a person picks up.

A hand-off (the answer's rules, the offer policy's hand-off, or the shopper asking for a
person) opens a request with its reason, a priority (the conversation's risk, the reason,
the customer's value to the shop) and its time. It moves waiting -> assigned (an agent
claims it) -> resolved, or back to the bot (returned). One request per conversation is
open at a time (a partial unique index: two hand-offs at once open one request). A claim
is a conditional UPDATE ... WHERE state = 'waiting', so of two agents claiming at once
exactly one wins. Every change is a ConversationEvent in the same transaction: the
conversation's timeline, and the feed the live console and the widget read (chatbot/live.py).

While a request waits, the bot keeps answering (the shopper may ask something else in the
meantime); once a person claims it the bot is quiet until it is resolved or handed back. An
offer-policy hand-off quiets the bot at once, as it always did (chatbot/offers/ledger.py).

The shopper hears, in their language, that a person was asked for and how long it usually
takes (the median wait of recent claims), or, outside the shop's business hours, when
someone will answer; they may leave an e-mail address with the request, and rate the
conversation once it is resolved.
"""

from __future__ import annotations

import logging
import re
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from chatbot import audit
from chatbot.errors import ConversationNotFound, DeskError, InvalidMessage
from chatbot.handoff import needs_person
from chatbot.messages import long_date, say
from shopcore.store.db import transaction
from shopcore.store.models import (
    HANDOFF_OPEN_STATES,
    Conversation,
    ConversationEvent,
    ConversationRating,
    Customer,
    HandoffRequest,
    Message,
    Order,
    SavedReply,
    as_utc,
    utcnow,
)

log = logging.getLogger(__name__)

# Priority is data: points for the conversation's churn risk, the hand-off's reason and
# what the customer has spent with the shop; higher is served first.
RISK_POINTS = {"low": 0, "medium": 20, "high": 40}
REASON_POINTS = {"legal": 30, "safety": 30, "payment_dispute": 20, "account_security": 20,
                 "staff_complaint": 10, "shopper_asked": 10, "offer": 10, "not_covered": 0, "agent": 0}
SPEND_POINTS = ((Decimal("1000"), 20), (Decimal("300"), 10), (Decimal("1"), 5))  # lifetime spend >= -> points

WAIT_SAMPLE = 20  # recent claims the expected wait is the median of
WAIT_WINDOW = timedelta(days=7)
WAIT_MIN_SAMPLE = 3  # fewer than this: "a few minutes"
MAX_NOTE = 5_000
MAX_COMMENT = 2_000
# Strict enough to refuse typos and junk, loose enough for real addresses (RFC 5321 lengths).
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                   r"[A-Za-z]{2,63}$")
# What a shopper's stream may carry; notes and who-did-what stay in the console.
SHOPPER_KINDS = ("handoff_requested", "claimed", "agent_reply", "resolved", "returned_to_bot",
                 "contact_left", "rated")


class AlreadyClaimed(DeskError):
    """Another agent claimed this conversation first."""

    status = 409


class NoOpenRequest(DeskError):
    """The conversation has no hand-off request in the state this needs."""

    status = 409


class NotRatable(DeskError):
    """Rated already, or not finished yet (a person is still on it, or nothing was answered)."""

    status = 409


@dataclass(frozen=True)
class Request:
    id: int
    conversation_id: str
    reason: str
    priority: int
    state: str
    agent: str | None
    has_contact: bool
    language: str | None
    created_at: datetime
    assigned_at: datetime | None
    first_reply_at: datetime | None
    resolved_at: datetime | None


def _public(row: HandoffRequest) -> Request:
    def at(moment):
        return None if moment is None else as_utc(moment)

    return Request(row.id, row.conversation_id, row.reason, row.priority, row.state, row.agent,
                   bool(row.contact_email), row.language, as_utc(row.created_at), at(row.assigned_at),
                   at(row.first_reply_at), at(row.resolved_at))


def event(session: Session, conversation_id: str, kind: str, actor: str, **detail: Any) -> None:
    """Add a timeline event to the caller's open transaction."""
    session.add(ConversationEvent(conversation_id=conversation_id, kind=kind, actor=actor, detail=detail))


def priority(risk_level: str, reason: str, lifetime_spend: Decimal) -> int:
    """Who is served first: risk, then reason, then the customer's value."""
    spend = next((points for floor, points in SPEND_POINTS if lifetime_spend >= floor), 0)
    return RISK_POINTS.get(risk_level, 0) + REASON_POINTS.get(reason, 0) + spend


def handoff_reason(guardrail: dict | None, offer_kind: str | None, text: str) -> str | None:
    """Why a turn hands off, or None: the shopper asked for a person, the offer policy chose a
    hand-off, or the answer's rules did (their reason: legal, not_covered, ...)."""
    by_answer = guardrail is not None and guardrail.get("action") == "handoff"
    asked = needs_person(text)
    if (by_answer or offer_kind == "handoff") and asked is not None and asked.reason == "shopper_asked":
        return "shopper_asked"
    if offer_kind == "handoff":
        return "offer"
    if by_answer:
        return str(guardrail.get("reason") or "not_covered")[:40]
    return None


def hand_off(sessions: sessionmaker[Session], conversation_id: str, guardrail: dict | None, offer,
             text: str, language: str | None) -> Request | None:
    """After a turn: open a request if the turn handed off (see handoff_reason); else None."""
    reason = handoff_reason(guardrail, None if offer is None else offer.kind, text)
    if reason is None:
        return None
    return request_person(sessions, conversation_id, reason, language=language)[0]


def request_person(sessions: sessionmaker[Session], conversation_id: str, reason: str, *,
                   actor: str = "bot", language: str | None = None) -> tuple[Request, bool]:
    """Open a hand-off request on the conversation; (request, True) if this call opened it,
    (the open one, False) if one was open already."""
    try:
        with transaction(sessions) as session:
            conversation = _conversation(session, conversation_id)
            existing = _open(session, conversation_id)
            if existing is not None:
                return _public(existing), False
            spend = _lifetime_spend(session, conversation.customer_id)
            row = HandoffRequest(conversation_id=conversation_id, reason=reason, language=language,
                                 priority=priority(conversation.risk_level, reason, spend), state="waiting")
            session.add(row)
            session.flush()  # the one-open-request index decides here
            event(session, conversation_id, "handoff_requested", actor, request_id=row.id, reason=reason,
                  priority=row.priority)
            return _public(row), True
    except IntegrityError:  # a second hand-off at the same moment: the first one stands
        with sessions() as session:
            existing = _open(session, conversation_id)
            if existing is None:
                raise
            return _public(existing), False


def claim(sessions: sessionmaker[Session], conversation_id: str, agent: str) -> Request:
    """The agent takes the waiting request (audited with it); AlreadyClaimed if someone else
    got it first."""
    now = utcnow()
    with transaction(sessions) as session:
        # The conditional UPDATE comes first: it takes the write lock (SQLite) or the row lock
        # (PostgreSQL) and re-checks the state, so two claims at once have one winner.
        won = session.execute(
            update(HandoffRequest)
            .where(HandoffRequest.conversation_id == conversation_id, HandoffRequest.state == "waiting")
            .values(state="assigned", agent=agent, assigned_at=now)
        ).rowcount == 1
        if won:
            row = _open(session, conversation_id)
            _set_conversation(session, conversation_id, "agent")
            event(session, conversation_id, "claimed", f"agent:{agent}", request_id=row.id,
                  waited_s=round((now - as_utc(row.created_at)).total_seconds(), 1))
            audit.note(session, audit.agent(agent), "claim", conversation_id=conversation_id)
            return _public(row)
    with sessions() as session:
        row = _open(session, conversation_id)
        if row is not None and row.state == "assigned":
            raise AlreadyClaimed(f"{row.agent} claimed this conversation first")
        _conversation(session, conversation_id)
        raise NoOpenRequest("nobody is waiting in this conversation")


def take_over(session: Session, conversation_id: str, agent: str) -> Request:
    """Within the caller's transaction: the agent has the conversation, by claiming its
    waiting request or, if none is open, by opening one already assigned to them."""
    now = utcnow()
    row = _open(session, conversation_id)
    if row is None:
        conversation = _conversation(session, conversation_id)
        row = HandoffRequest(conversation_id=conversation_id, reason="agent", state="assigned", agent=agent,
                             assigned_at=now, priority=priority(conversation.risk_level, "agent",
                                                                _lifetime_spend(session, conversation.customer_id)))
        session.add(row)
        session.flush()
        event(session, conversation_id, "handoff_requested", f"agent:{agent}", request_id=row.id, reason="agent",
              priority=row.priority)
        event(session, conversation_id, "claimed", f"agent:{agent}", request_id=row.id, waited_s=0.0)
    elif row.state == "waiting":
        won = session.execute(update(HandoffRequest).where(HandoffRequest.id == row.id,
                                                           HandoffRequest.state == "waiting")
                              .values(state="assigned", agent=agent, assigned_at=now)).rowcount == 1
        if not won:
            raise AlreadyClaimed("another agent claimed this conversation first")
        session.refresh(row)
        event(session, conversation_id, "claimed", f"agent:{agent}", request_id=row.id,
              waited_s=round((now - as_utc(row.created_at)).total_seconds(), 1))
    _set_conversation(session, conversation_id, "agent")
    return _public(row)


def agent_replied(session: Session, conversation_id: str, agent: str, message_id: int) -> None:
    """Within the caller's transaction: the reply's event, and the request's first reply time."""
    session.execute(update(HandoffRequest)
                    .where(HandoffRequest.conversation_id == conversation_id,
                           HandoffRequest.state.in_(HANDOFF_OPEN_STATES), HandoffRequest.first_reply_at.is_(None))
                    .values(first_reply_at=utcnow()))
    event(session, conversation_id, "agent_reply", f"agent:{agent}", message_id=message_id)


def add_note(sessions: sessionmaker[Session], conversation_id: str, agent: str, text: str) -> None:
    """An internal note on the timeline: agents see it, the shopper never does."""
    text = (text or "").strip()
    if not text:
        raise InvalidMessage("the note is empty")
    if len(text) > MAX_NOTE:
        raise InvalidMessage(f"the note is {len(text)} characters; the limit is {MAX_NOTE}")
    with transaction(sessions) as session:
        _conversation(session, conversation_id)
        event(session, conversation_id, "note", f"agent:{agent}", text=text)


def finish(session: Session, conversation_id: str, actor: str, *, resolved: bool) -> Request | None:
    """Within the caller's transaction: close the open request (resolved, or returned to the
    bot) and let the bot answer again; None if none was open."""
    row = _open(session, conversation_id)
    _set_conversation(session, conversation_id, "bot")
    if row is None:
        if not resolved:
            event(session, conversation_id, "returned_to_bot", actor)
            return None
        raise NoOpenRequest("this conversation has no open hand-off to resolve")
    row.state = "resolved" if resolved else "returned"
    row.resolved_at = utcnow()
    event(session, conversation_id, "resolved" if resolved else "returned_to_bot", actor, request_id=row.id)
    return _public(row)


def leave_contact(sessions: sessionmaker[Session], conversation_id: str, customer_id: int | None,
                  email: str) -> Request:
    """Store the shopper's e-mail address with their open request (to be answered there)."""
    email = valid_email(email)
    with transaction(sessions) as session:
        _owned(session, conversation_id, customer_id)
        row = _open(session, conversation_id)
        if row is None:
            raise NoOpenRequest("nobody has been asked for in this conversation")
        row.contact_email = email
        event(session, conversation_id, "contact_left", "shopper", request_id=row.id)
        log.info("contact left on hand-off %s: %s", row.id, mask_email(email))
        return _public(row)


def valid_email(email: str) -> str:
    email = (email or "").strip()
    if len(email) > 254 or not EMAIL.match(email) or ".." in email:
        raise InvalidMessage("that is not an e-mail address we can write to")
    return email


def mask_email(email: str) -> str:
    """An address as logs may show it: a***@example.com."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def rate(sessions: sessionmaker[Session], conversation_id: str, customer_id: int | None, score: int,
         comment: str | None = None) -> dict[str, Any]:
    """The shopper's 1-5 rating of a finished conversation, once (a unique constraint)."""
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidMessage("a rating is a whole number from 1 to 5")
    comment = (comment or "").strip()[:MAX_COMMENT] or None
    try:
        with transaction(sessions) as session:
            _owned(session, conversation_id, customer_id)
            if _open(session, conversation_id) is not None:
                raise NotRatable("a person is still on this conversation")
            answered = session.scalar(select(func.count(Message.id)).where(
                Message.conversation_id == conversation_id, Message.role.in_(("assistant", "agent")),
                Message.state == "ok"))
            if not answered:
                raise NotRatable("nothing in this conversation has been answered yet")
            by_person = session.scalar(select(func.count(HandoffRequest.id)).where(
                HandoffRequest.conversation_id == conversation_id, HandoffRequest.state == "resolved"))
            rating = ConversationRating(conversation_id=conversation_id, score=score, comment=comment,
                                        resolved_by="agent" if by_person else "bot")
            session.add(rating)
            session.flush()
            event(session, conversation_id, "rated", "shopper", score=score)
            return {"conversation_id": conversation_id, "score": score, "comment": comment,
                    "resolved_by": rating.resolved_by}
    except IntegrityError:
        raise NotRatable("this conversation has been rated already") from None


def timeline(sessions: sessionmaker[Session], conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's events, oldest first, for the console (notes included)."""
    with sessions() as session:
        rows = session.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == conversation_id)
                               .order_by(ConversationEvent.id)).all()
        return [{"id": e.id, "at": as_utc(e.at), "kind": e.kind, "actor": e.actor, "detail": e.detail} for e in rows]


def saved_replies(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    with sessions() as session:
        return [{"id": r.id, "title": r.title, "body": r.body, "created_by": r.created_by}
                for r in session.scalars(select(SavedReply).order_by(SavedReply.title, SavedReply.id))]


def save_reply(sessions: sessionmaker[Session], title: str, body: str, agent: str) -> int:
    """A reply agents can reuse with one click."""
    title, body = (title or "").strip()[:200], (body or "").strip()
    if not title or not body:
        raise InvalidMessage("a saved reply needs a title and a text")
    if len(body) > MAX_NOTE:
        raise InvalidMessage(f"the text is {len(body)} characters; the limit is {MAX_NOTE}")
    with transaction(sessions) as session:
        row = SavedReply(title=title, body=body, created_by=agent)
        session.add(row)
        session.flush()
        return row.id


def open_request_in(session: Session, conversation_id: str) -> Request | None:
    row = _open(session, conversation_id)
    return None if row is None else _public(row)


def open_request(sessions: sessionmaker[Session], conversation_id: str) -> Request | None:
    with sessions() as session:
        row = _open(session, conversation_id)
        return None if row is None else _public(row)


def waiting_queue(sessions: sessionmaker[Session], limit: int = 200) -> list[dict[str, Any]]:
    """Open requests for the console: waiting first (highest priority, then longest wait),
    then those already assigned."""
    with sessions() as session:
        rows = session.execute(
            select(HandoffRequest, Conversation, Customer.name)
            .join(Conversation, Conversation.id == HandoffRequest.conversation_id)
            .outerjoin(Customer, Customer.id == Conversation.customer_id)
            .where(HandoffRequest.state.in_(HANDOFF_OPEN_STATES))
            .order_by((HandoffRequest.state == "assigned"), HandoffRequest.priority.desc(),
                      HandoffRequest.created_at, HandoffRequest.id)
            .limit(limit)).all()
        firsts = dict(session.execute(
            select(Message.conversation_id, Message.text)
            .where(Message.id.in_(select(func.max(Message.id))
                                  .where(Message.conversation_id.in_([c.id for _, c, _ in rows]),
                                         Message.role == "user")
                                  .group_by(Message.conversation_id)))).all()) if rows else {}
    now = utcnow()
    return [{"request": _public(r), "conversation_id": c.id, "customer": name, "channel": c.channel,
             "risk_level": c.risk_level, "waiting_s": (now - as_utc(r.created_at)).total_seconds(),
             "has_contact": bool(r.contact_email), "last_message": (firsts.get(c.id) or "")[:160]}
            for r, c, name in rows]


def expected_wait_s(sessions: sessionmaker[Session], now: datetime | None = None) -> float | None:
    """The median wait of the latest claims this week; None with too few to say."""
    now = now or utcnow()
    with sessions() as session:
        rows = session.execute(
            select(HandoffRequest.created_at, HandoffRequest.assigned_at)
            .where(HandoffRequest.assigned_at.is_not(None), HandoffRequest.reason != "agent",
                   HandoffRequest.assigned_at >= now - WAIT_WINDOW)
            .order_by(HandoffRequest.assigned_at.desc()).limit(WAIT_SAMPLE)).all()
    waits = [(as_utc(assigned) - as_utc(created)).total_seconds() for created, assigned in rows]
    return statistics.median(waits) if len(waits) >= WAIT_MIN_SAMPLE else None


def wait_words(seconds: float | None, language: str) -> str:
    if seconds is None or seconds < 90:
        return say("handoff_wait_few", language)
    return say("handoff_wait_minutes", language, minutes=max(2, round(seconds / 60)))


def when_words(opening: datetime | None, now: datetime, hours, language: str) -> str:
    """When the team is next in, as the shopper reads it (in the shop's time zone)."""
    if opening is None:
        return say("handoff_when_unknown", language)
    local_now = now.astimezone(hours.zone())
    time = opening.strftime("%H:%M")
    if opening.date() == local_now.date():
        return say("handoff_when_today", language, time=time, zone=hours.timezone)
    return say("handoff_when_day", language, date=long_date(opening.date(), language), time=time, zone=hours.timezone)


def shopper_status(sessions: sessionmaker[Session], conversation_id: str, customer_id: int | None, *,
                   hours=None, language: str | None = None, default_language: str = "en",
                   now: datetime | None = None) -> dict[str, Any]:
    """What the shopper's side shows about a person: whether one was asked for, the expected
    wait or (outside business hours) when someone will answer, whether to offer the
    e-mail field, and whether the conversation can be rated; all words in their language:
    `language` when the caller knows it (the message just written), else the request's, else
    default_language."""
    now = now or utcnow()
    with sessions() as session:
        _owned(session, conversation_id, customer_id)
        row = _open(session, conversation_id)
        last = session.scalar(select(HandoffRequest).where(HandoffRequest.conversation_id == conversation_id)
                              .order_by(HandoffRequest.id.desc()).limit(1))
        rated = session.scalar(select(ConversationRating.id).where(
            ConversationRating.conversation_id == conversation_id)) is not None
        answered = session.scalar(select(func.count(Message.id)).where(
            Message.conversation_id == conversation_id, Message.role.in_(("assistant", "agent")),
            Message.state == "ok"))
    language = language or (last.language if last is not None and last.language else None) or default_language
    status: dict[str, Any] = {"state": row.state if row is not None else (last.state if last else "bot"),
                              "open": row is not None, "contact_left": bool(row is not None and row.contact_email),
                              "ask_contact": False, "text": "", "rated": rated, "language": language,
                              "can_rate": row is None and bool(answered) and not rated,
                              "labels": {k: say(f"widget_{k}", language) for k in LABELS}}
    if row is not None and row.state == "waiting":
        staffed = hours is None or hours.is_open(now)
        if staffed:
            wait = expected_wait_s(sessions, now)
            status.update(expected_wait_s=wait, text=say("handoff_waiting", language, wait=wait_words(wait, language)))
        else:
            opening = hours.next_opening(now)
            status.update(next_opening=None if opening is None else opening.isoformat(), ask_contact=True,
                          text=say("handoff_after_hours", language, when=when_words(opening, now, hours, language)))
    elif row is not None:
        status["text"] = say("handoff_assigned", language)
    elif last is not None and last.state == "resolved":
        status["text"] = say("handoff_resolved", language)
    return status


def chat_page_note(sessions: sessionmaker[Session], conversation_id: str, customer_id: int | None, *,
                   hours=None, language: str = "en") -> str:
    """What the chat page says under a reply while a person is asked for ('' otherwise): the
    wait or when someone will answer, and how to leave an e-mail address there."""
    status = shopper_status(sessions, conversation_id, customer_id, hours=hours, language=language)
    if not status["open"]:
        return ""
    if status["ask_contact"] and not status["contact_left"]:
        return f"{status['text']} {say('handoff_email_here', status['language'])}"
    return status["text"]


def chat_page_contact(sessions: sessionmaker[Session], conversation_id: str | None, customer_id: int | None,
                      text: str, language: str = "en") -> str | None:
    """A chat-page message that is only an e-mail address, sent while a person is asked for:
    stored with the request (not as a message); the words to answer with, else None."""
    if conversation_id is None or not EMAIL.match(text.strip()) or open_request(sessions, conversation_id) is None:
        return None
    try:
        leave_contact(sessions, conversation_id, customer_id, text)
    except DeskError:
        return None
    return say("widget_email_saved", language)


def agent_replies_after(sessions: sessionmaker[Session], conversation_id: str | None, customer_id: int | None,
                        after_id: int) -> list[tuple[int, str]]:
    """A person's replies in the shopper's own conversation after message after_id, oldest first."""
    if conversation_id is None:
        return []
    with sessions() as session:
        _owned(session, conversation_id, customer_id)
        return [tuple(row) for row in session.execute(
            select(Message.id, Message.text).where(Message.conversation_id == conversation_id,
                                                   Message.role == "agent", Message.id > after_id)
            .order_by(Message.id))]


LABELS = ("email", "email_send", "email_saved", "rate_prompt", "rate_comment", "rate_send", "rate_thanks",
          "ask_person")


def _open(session: Session, conversation_id: str) -> HandoffRequest | None:
    return session.scalar(select(HandoffRequest).where(HandoffRequest.conversation_id == conversation_id,
                                                       HandoffRequest.state.in_(HANDOFF_OPEN_STATES)))


def _conversation(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound(f"conversation {conversation_id} not found")
    return conversation


def check_owner(sessions: sessionmaker[Session], conversation_id: str, customer_id: int | None) -> None:
    """Raise ConversationNotFound unless the conversation is this shopper's (None: anonymous)."""
    with sessions() as session:
        _owned(session, conversation_id, customer_id)


def _owned(session: Session, conversation_id: str, customer_id: int | None) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    # Someone else's conversation looks exactly like a missing one.
    if conversation is None or conversation.customer_id != customer_id:
        raise ConversationNotFound(f"conversation {conversation_id} not found")
    return conversation


def _set_conversation(session: Session, conversation_id: str, state: str) -> None:
    session.execute(update(Conversation).where(Conversation.id == conversation_id)
                    .values(state=state, updated_at=utcnow()))


def _lifetime_spend(session: Session, customer_id: int | None) -> Decimal:
    if customer_id is None:
        return Decimal("0")
    total = session.scalar(select(func.sum(Order.total)).where(
        Order.customer_id == customer_id, Order.status.not_in(("cancelled", "refunded"))))
    return Decimal(total or 0)
