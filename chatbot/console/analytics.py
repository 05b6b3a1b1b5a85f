"""The numbers a support lead watches, over a window of days: conversations per day and the
share the desk handled without a person, hand-offs by reason, the time a waiting shopper
waits for a person's first reply, ratings, retention offers and what came of them, and the
questions the desk could not answer, grouped by meaning (the content the shop should write).

Each function returns a `Table` (what the page shows and `/agent/analytics/<name>.csv`
exports); the charts are drawn from the same tables (console/analytics_plot.py). Days are
UTC days. The counting is SQL where SQLite and PostgreSQL agree on it; medians and the
grouping of questions are done here.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import numpy as np
from sqlalchemy import String, and_, case, cast, distinct, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from shopcore.store.models import (
    Conversation,
    ConversationRating,
    HandoffRequest,
    Message,
    NotificationDelivery,
    Order,
    RetentionOffer,
    as_utc,
)

MAX_DAYS = 366
# An agent's own take-over is not a shopper waiting for a person: it has no wait to measure.
AGENT_TAKE_OVER = "agent"
# What counts as a question the desk could not answer from the shop's documents: a fallback
# (no supported answer) or a hand-off because the evidence did not cover it. Hand-offs the
# rules require whatever the documents say (legal, payment disputes, ...) are no content gap.
GAP_HANDOFF_REASONS = ("not_covered",)
GAP_QUESTIONS_SCANNED = 2000  # the newest unanswered questions grouped per page view
GAP_SIMILARITY = 0.6  # cosine similarity at which two questions are taken for the same question
GAP_GROUPS = 15


@dataclass(frozen=True)
class Window:
    """[since, until): UTC days, whole."""

    since: datetime
    until: datetime

    @classmethod
    def last(cls, days: int, today: date | None = None) -> Window:
        """The last `days` days, today included."""
        today = today or datetime.now(timezone.utc).date()
        end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=timezone.utc)
        return cls(end - timedelta(days=days), end)

    @property
    def last_day(self) -> date:
        return (self.until - timedelta(days=1)).date()

    def days(self) -> list[str]:
        count = (self.until - self.since).days
        return [(self.since.date() + timedelta(days=n)).isoformat() for n in range(count)]

    def holds(self, column):
        return and_(column >= self.since, column < self.until)


@dataclass(frozen=True)
class Table:
    name: str  # its CSV is /agent/analytics/<name>.csv
    title: str
    columns: tuple[str, ...]
    rows: list[tuple]
    summary: dict[str, Any]  # the headline numbers shown above the table

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]


def _day(session: Session, column):
    """The UTC day of a timestamp column as 'YYYY-MM-DD' text, on either engine."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.date(column)  # SQLite keeps UTC text


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _with_person():
    """A conversation a person took part in: a hand-off was requested, or an agent wrote."""
    return or_(exists().where(HandoffRequest.conversation_id == Conversation.id),
               exists().where(Message.conversation_id == Conversation.id, Message.role == "agent"))


def daily(sessions: sessionmaker[Session], window: Window) -> Table:
    """Conversations started per day, how many a person took part in, and the share without one."""
    with sessions() as session:
        day = _day(session, Conversation.created_at)
        counted = dict((d, (n, p)) for d, n, p in session.execute(
            select(day, func.count(), func.sum(case((_with_person(), 1), else_=0)))
            .where(window.holds(Conversation.created_at)).group_by(day)))
    rows = []
    for d in window.days():
        total, person = counted.get(d, (0, 0))
        rows.append((d, total, int(person or 0), total - int(person or 0), _share(total - int(person or 0), total)))
    total = sum(r[1] for r in rows)
    without = sum(r[3] for r in rows)
    return Table("daily", "Conversations per day",
                 ("day", "conversations", "with_person", "without_person", "without_person_share"), rows,
                 {"conversations": total, "without_person": without,
                  "without_person_share": _share(without, total)})


def handoff_reasons(sessions: sessionmaker[Session], window: Window) -> Table:
    """Hand-off requests by reason, and each as a share of the window's conversations."""
    with sessions() as session:
        conversations = session.scalar(select(func.count()).select_from(Conversation)
                                       .where(window.holds(Conversation.created_at)))
        counted = session.execute(
            select(HandoffRequest.reason, func.count(), func.count(distinct(HandoffRequest.conversation_id)))
            .where(window.holds(HandoffRequest.created_at))
            .group_by(HandoffRequest.reason).order_by(func.count().desc(), HandoffRequest.reason)).all()
        handed_off = session.scalar(select(func.count(distinct(HandoffRequest.conversation_id)))
                                    .where(window.holds(HandoffRequest.created_at)))
    rows = [(reason, n, c, _share(c, conversations)) for reason, n, c in counted]
    return Table("handoffs", "Hand-offs by reason",
                 ("reason", "requests", "conversations", "rate"), rows,
                 {"conversations": conversations, "handed_off": handed_off,
                  "handoff_rate": _share(handed_off, conversations)})


def first_reply(sessions: sessionmaker[Session], window: Window) -> Table:
    """Per day: hand-offs requested, how many a person answered, and the median wait (s)
    from the request to the first reply."""
    with sessions() as session:
        requests = session.execute(
            select(HandoffRequest.created_at, HandoffRequest.first_reply_at)
            .where(window.holds(HandoffRequest.created_at), HandoffRequest.reason != AGENT_TAKE_OVER)).all()
    waits: dict[str, list[float]] = {d: [] for d in window.days()}
    asked = dict.fromkeys(waits, 0)
    for created, replied in requests:
        d = as_utc(created).date().isoformat()
        asked[d] = asked.get(d, 0) + 1
        if replied is not None:
            waits.setdefault(d, []).append((as_utc(replied) - as_utc(created)).total_seconds())
    rows = [(d, asked[d], len(waits[d]), _median(waits[d])) for d in window.days()]
    every = [w for d in waits for w in waits[d]]
    return Table("first_reply", "Time to a person's first reply",
                 ("day", "handoffs", "answered", "median_first_reply_s"), rows,
                 {"handoffs": len(requests), "answered": len(every), "median_first_reply_s": _median(every)})


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def ratings(sessions: sessionmaker[Session], window: Window) -> Table:
    """How many of each score (1-5), by who resolved the conversation, and the average."""
    with sessions() as session:
        counted = session.execute(
            select(ConversationRating.score, ConversationRating.resolved_by, func.count())
            .where(window.holds(ConversationRating.created_at))
            .group_by(ConversationRating.score, ConversationRating.resolved_by)).all()
    by = {(score, who): n for score, who, n in counted}
    rows = [(s, by.get((s, "bot"), 0), by.get((s, "agent"), 0), by.get((s, "bot"), 0) + by.get((s, "agent"), 0))
            for s in range(1, 6)]
    summary: dict[str, Any] = {"ratings": sum(r[3] for r in rows)}
    for column, who in ((3, "all"), (1, "bot"), (2, "agent")):
        count = sum(r[column] for r in rows)
        summary[f"average_{who}"] = round(sum(r[0] * r[column] for r in rows) / count, 2) if count else None
    return Table("ratings", "Ratings", ("score", "resolved_by_bot", "resolved_by_agent", "total"), rows, summary)


def offers(sessions: sessionmaker[Session], window: Window) -> Table:
    """Retention offers made in the window by kind: redeemed, and customers who placed an
    order after the offer (with its code or not)."""
    ordered_after = exists().where(Order.customer_id == RetentionOffer.customer_id,
                                   Order.placed_at > RetentionOffer.created_at)
    columns = (func.count(), func.count(RetentionOffer.redeemed_at),
               func.count(distinct(RetentionOffer.customer_id)),
               func.count(distinct(case((ordered_after, RetentionOffer.customer_id)))))
    made_in = window.holds(RetentionOffer.created_at)
    with sessions() as session:
        kinds = session.execute(select(RetentionOffer.kind, *columns).where(made_in)
                                .group_by(RetentionOffer.kind).order_by(func.count().desc(), RetentionOffer.kind)).all()
        total = session.execute(select(*columns).where(made_in)).one()
    rows = [(kind, made, redeemed, _share(redeemed, made), customers, again, _share(again, customers))
            for kind, made, redeemed, customers, again in kinds]
    made, redeemed, customers, again = total
    return Table("offers", "Retention offers and what came of them",
                 ("kind", "made", "redeemed", "redemption_rate", "customers", "ordered_again",
                  "ordered_again_share"), rows,
                 {"made": made, "redeemed": redeemed, "redemption_rate": _share(redeemed, made),
                  "customers": customers, "ordered_again": again, "ordered_again_share": _share(again, customers)})


def unanswered_questions(sessions: sessionmaker[Session], window: Window, limit: int = GAP_QUESTIONS_SCANNED
                         ) -> list[tuple[str, datetime]]:
    """Shopper messages whose reply was a fallback or a hand-off for lack of evidence, newest first."""
    reply = aliased(Message)
    # The guardrail is JSON; its text form is matched first (both engines), then read here.
    marked = or_(cast(reply.guardrail, String).like('%"fallback"%'), cast(reply.guardrail, String).like('%"handoff"%'))
    with sessions() as session:
        found = session.execute(
            select(Message.text, Message.created_at, reply.guardrail)
            .join(reply, and_(reply.reply_to_id == Message.id, reply.role == "assistant"))
            .where(Message.role == "user", window.holds(Message.created_at), marked)
            .order_by(Message.id.desc()).limit(limit)).all()
    return [(text, as_utc(at)) for text, at, guardrail in found if _is_gap(guardrail) and text.strip()]


def _is_gap(guardrail: dict | None) -> bool:
    guardrail = guardrail or {}
    action = guardrail.get("action")
    return action == "fallback" or (action == "handoff" and guardrail.get("reason") in GAP_HANDOFF_REASONS)


def group_questions(questions: list[tuple[str, datetime]], embed, threshold: float = GAP_SIMILARITY
                    ) -> list[dict[str, Any]]:
    """Questions (newest first) grouped by meaning, biggest group first: each question joins the group
    whose centroid it is most similar to, if at least `threshold`, else starts one. `embed`
    maps texts to unit vectors (the desk's embedder). Each group has its count, the question
    nearest its centre as the example, a few others, and when it was last asked."""
    if not questions:
        return []
    # The same words asked again are embedded once.
    unique = list(dict.fromkeys(" ".join(text.lower().split()) for text, _ in questions))
    unique_vectors = embed(unique)
    where = {text: n for n, text in enumerate(unique)}
    vectors = unique_vectors[[where[" ".join(text.lower().split())] for text, _ in questions]]
    sums: list[np.ndarray] = []
    members: list[list[int]] = []
    for i, vector in enumerate(vectors):
        if sums:
            centroids = np.stack(sums)
            centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
            similarity = centroids @ vector
            best = int(similarity.argmax())
            if similarity[best] >= threshold:
                sums[best] = sums[best] + vector
                members[best].append(i)
                continue
        sums.append(vector.copy())
        members.append([i])
    groups = []
    for total, indexes in zip(sums, members):
        centre = total / np.linalg.norm(total)
        # Nearest the centre first; a tie (two questions are equally near) goes to the newer.
        ranked = sorted(indexes, key=lambda i: (-round(float(vectors[i] @ centre), 4), i))
        texts = list(dict.fromkeys(questions[i][0].strip() for i in ranked))
        groups.append({"count": len(indexes), "example": texts[0], "others": texts[1:4],
                       "last_asked": max(questions[i][1] for i in indexes)})
    return sorted(groups, key=lambda g: (-g["count"], -g["last_asked"].timestamp()))


def content_gaps(sessions: sessionmaker[Session], window: Window, embed, groups: int = GAP_GROUPS) -> Table:
    """The top groups of unanswered questions: what the shop's documents should answer."""
    questions = unanswered_questions(sessions, window)
    grouped = group_questions(questions, embed)
    rows = [(g["count"], g["example"], " | ".join(g["others"]), g["last_asked"].strftime("%Y-%m-%d %H:%M"))
            for g in grouped[:groups]]
    return Table("gaps", "Top unanswered questions", ("asked", "example", "also_asked_as", "last_asked"), rows,
                 {"unanswered": len(questions), "groups": len(grouped)})


def notifications(sessions: sessionmaker[Session], window: Window) -> Table:
    """Hand-off notices per channel (chatbot/notify.py): sent, still retrying, given up on,
    and the latest error, so a broken webhook or mail server shows here."""
    with sessions() as session:
        counted = session.execute(
            select(NotificationDelivery.channel, NotificationDelivery.state, func.count(),
                   func.sum(NotificationDelivery.attempts))
            .where(window.holds(NotificationDelivery.created_at))
            .group_by(NotificationDelivery.channel, NotificationDelivery.state)).all()
        latest = dict(session.execute(
            select(NotificationDelivery.channel, NotificationDelivery.last_error)
            .where(window.holds(NotificationDelivery.created_at), NotificationDelivery.last_error.is_not(None))
            .order_by(NotificationDelivery.id)).all())  # the newest error of each channel wins
    by = {(channel, state): (n, int(attempts or 0)) for channel, state, n, attempts in counted}
    rows = []
    for channel in sorted({channel for channel, _ in by}):
        sent, pending, failed = (by.get((channel, state), (0, 0))[0] for state in ("sent", "pending", "failed"))
        attempts = sum(by.get((channel, state), (0, 0))[1] for state in ("sent", "pending", "failed"))
        rows.append((channel, sent + pending + failed, sent, pending, failed, attempts, latest.get(channel, "")))
    return Table("notifications", "Hand-off notices",
                 ("channel", "notices", "sent", "retrying", "failed", "attempts", "latest_error"), rows,
                 {"failed": sum(r[4] for r in rows), "retrying": sum(r[3] for r in rows)})


def report(sessions: sessionmaker[Session], window: Window, embed) -> dict[str, Table]:
    """Every table of the analytics page, by name."""
    return {table.name: table for table in (
        daily(sessions, window), handoff_reasons(sessions, window), first_reply(sessions, window),
        ratings(sessions, window), offers(sessions, window), content_gaps(sessions, window, embed),
        notifications(sessions, window))}


TABLES = {"daily": daily, "handoffs": handoff_reasons, "first_reply": first_reply, "ratings": ratings,
          "offers": offers, "gaps": content_gaps, "notifications": notifications}
