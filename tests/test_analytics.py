"""The analytics page's numbers (chatbot/console/analytics.py) against a database filled with
known rows on SQLite and PostgreSQL, the grouping of unanswered questions with the real
embedder, and the page and its CSV exports through the app with an agent login."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from chatbot.console import analytics
from chatbot.console.accounts import create_agent
from chatbot.console.analytics import Window
from shopcore.store.models import (
    AuditEvent,
    Conversation,
    ConversationRating,
    Customer,
    HandoffRequest,
    Message,
    NotificationDelivery,
    Order,
    RetentionOffer,
)
from tests.test_console import PASSWORD, log_in

TODAY = date(2026, 3, 10)
WINDOW = Window.last(7, today=TODAY)  # 2026-03-04 .. 2026-03-10


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


def conversation(session, created_at, **fields) -> str:
    row = Conversation(created_at=created_at, updated_at=created_at, **fields)
    session.add(row)
    session.flush()
    return row.id


def turn(session, conversation_id, question, created_at, guardrail=None, role="assistant"):
    """A shopper's message and the reply to it (the desk's, with what its guardrails did)."""
    asked = Message(conversation_id=conversation_id, role="user", text=question, created_at=created_at)
    session.add(asked)
    session.flush()
    session.add(Message(conversation_id=conversation_id, role=role, text="…", reply_to_id=asked.id,
                        guardrail=guardrail, created_at=created_at + timedelta(seconds=2)))


def handoff(session, conversation_id, reason, created_at, reply_after_s=None):
    session.add(HandoffRequest(conversation_id=conversation_id, reason=reason, created_at=created_at,
                               state="assigned" if reply_after_s is not None else "waiting",
                               first_reply_at=None if reply_after_s is None
                               else created_at + timedelta(seconds=reply_after_s)))


@pytest.fixture
def filled(sessions):
    """Known rows: five conversations in the window (03-04 .. 03-10), two just outside it."""
    with sessions.begin() as s:
        c1 = conversation(s, at(4, 10))  # the bot alone
        turn(s, c1, "Where is my order?", at(4, 10))
        c2 = conversation(s, at(4, 23, 30))  # 03-04 late: a hand-off answered in 2 minutes
        handoff(s, c2, "not_covered", at(4, 23, 31), reply_after_s=120)
        c3 = conversation(s, at(5, 0, 10))  # an agent took over (no shopper wait) and wrote
        handoff(s, c3, "agent", at(5, 0, 20), reply_after_s=5)
        turn(s, c3, "Hello?", at(5, 0, 10), role="agent")
        c4 = conversation(s, at(6, 9))  # legal: answered in 10 minutes
        handoff(s, c4, "legal", at(6, 9, 1), reply_after_s=600)
        c5 = conversation(s, at(6, 15))  # legal: still waiting
        handoff(s, c5, "legal", at(6, 15, 1))
        before = conversation(s, at(3, 23, 59))
        handoff(s, before, "legal", at(3, 23, 59), reply_after_s=9999)
        conversation(s, datetime(2026, 3, 11, tzinfo=timezone.utc))  # the day after the window

        s.add_all([ConversationRating(conversation_id=c1, score=5, resolved_by="bot", created_at=at(4, 11)),
                   ConversationRating(conversation_id=c2, score=4, resolved_by="agent", created_at=at(5)),
                   ConversationRating(conversation_id=c4, score=1, resolved_by="agent", created_at=at(6, 10)),
                   ConversationRating(conversation_id=before, score=2, resolved_by="agent", created_at=at(3))])

        s.add_all([Customer(id=n, name=f"C{n}", email=f"c{n}@example.com", country="US") for n in (1, 2, 3)])
        s.flush()
        orders = [(1, at(6, 18)), (2, at(1)), (3, at(9))]  # customer 2 ordered only before the offer
        s.add_all([Order(number=f"A{n}", customer_id=customer, status="delivered", placed_at=placed,
                         total=Decimal("10")) for n, (customer, placed) in enumerate(orders)])
        offers = [("discount", 1, at(4), at(5)), ("discount", 2, at(5), None), ("free_shipping", 3, at(6), None),
                  ("discount", 1, at(6, 8), None), ("discount", 2, at(1), at(2))]  # the last: before the window
        s.add_all([RetentionOffer(trigger_key=f"t{n}", conversation_id=c1, customer_id=customer, rule="r",
                                  kind=kind, created_at=made, redeemed_at=redeemed,
                                  state="redeemed" if redeemed else "offered")
                   for n, (kind, customer, made, redeemed) in enumerate(offers)])
    return sessions


def test_window_covers_whole_utc_days():
    assert WINDOW.since == datetime(2026, 3, 4, tzinfo=timezone.utc)
    assert WINDOW.until == datetime(2026, 3, 11, tzinfo=timezone.utc)
    assert WINDOW.days()[0] == "2026-03-04" and WINDOW.days()[-1] == "2026-03-10" and len(WINDOW.days()) == 7
    assert WINDOW.last_day == TODAY


def test_conversations_per_day_and_the_share_without_a_person(filled):
    table = analytics.daily(filled, WINDOW)
    assert table.rows == [("2026-03-04", 2, 1, 1, 0.5), ("2026-03-05", 1, 1, 0, 0.0), ("2026-03-06", 2, 2, 0, 0.0),
                          ("2026-03-07", 0, 0, 0, None), ("2026-03-08", 0, 0, 0, None),
                          ("2026-03-09", 0, 0, 0, None), ("2026-03-10", 0, 0, 0, None)]
    assert table.summary == {"conversations": 5, "without_person": 1, "without_person_share": 0.2}


def test_hand_off_rate_by_reason(filled):
    table = analytics.handoff_reasons(filled, WINDOW)
    assert table.rows == [("legal", 2, 2, 0.4), ("agent", 1, 1, 0.2), ("not_covered", 1, 1, 0.2)]
    assert table.summary == {"conversations": 5, "handed_off": 4, "handoff_rate": 0.8}


def test_median_time_to_first_reply(filled):
    table = analytics.first_reply(filled, WINDOW)
    by_day = {row[0]: row[1:] for row in table.rows}
    assert by_day["2026-03-04"] == (1, 1, 120.0)
    assert by_day["2026-03-05"] == (0, 0, None)  # the agent's own take-over is no wait
    assert by_day["2026-03-06"] == (2, 1, 600.0)  # one still waits
    assert table.summary == {"handoffs": 3, "answered": 2, "median_first_reply_s": 360.0}


def test_ratings(filled):
    table = analytics.ratings(filled, WINDOW)
    assert table.rows == [(1, 0, 1, 1), (2, 0, 0, 0), (3, 0, 0, 0), (4, 0, 1, 1), (5, 1, 0, 1)]
    assert table.summary == {"ratings": 3, "average_all": 3.33, "average_bot": 5.0, "average_agent": 2.5}


def test_offers_made_redeemed_and_ordered_again(filled):
    table = analytics.offers(filled, WINDOW)
    assert table.rows == [("discount", 3, 1, 0.3333, 2, 1, 0.5), ("free_shipping", 1, 0, 0.0, 1, 1, 1.0)]
    assert table.summary == {"made": 4, "redeemed": 1, "redemption_rate": 0.25, "customers": 3,
                             "ordered_again": 2, "ordered_again_share": 0.6667}


def test_notification_health_per_channel(sessions):
    with sessions.begin() as s:
        ids = []
        for day in (4, 5, 6, 1):
            c = conversation(s, at(day))
            request = HandoffRequest(conversation_id=c, reason="legal", created_at=at(day))
            s.add(request)
            s.flush()
            ids.append(request.id)
        s.add_all([
            NotificationDelivery(handoff_id=ids[0], channel="webhook", target="t", state="sent", attempts=2,
                                 last_error="HTTP 503", created_at=at(4)),
            NotificationDelivery(handoff_id=ids[1], channel="webhook", target="t", state="failed", attempts=6,
                                 last_error="HTTP 500", created_at=at(5)),
            NotificationDelivery(handoff_id=ids[2], channel="webhook", target="t", state="pending", attempts=1,
                                 last_error="ConnectError: refused", created_at=at(6)),
            NotificationDelivery(handoff_id=ids[0], channel="email", target="t", state="sent", attempts=1,
                                 created_at=at(4)),
            NotificationDelivery(handoff_id=ids[3], channel="email", target="t", state="failed", attempts=6,
                                 last_error="before the window", created_at=at(1)),
        ])
    table = analytics.notifications(sessions, WINDOW)
    assert table.rows == [("email", 1, 1, 0, 0, 1, ""), ("webhook", 3, 1, 1, 1, 9, "ConnectError: refused")]
    assert table.summary == {"failed": 1, "retrying": 1}


def test_an_empty_window_has_no_numbers_and_no_errors(sessions):
    assert analytics.daily(sessions, WINDOW).summary["without_person_share"] is None
    assert analytics.first_reply(sessions, WINDOW).summary["median_first_reply_s"] is None
    assert analytics.ratings(sessions, WINDOW).summary["average_all"] is None
    assert analytics.offers(sessions, WINDOW).summary == {
        "made": 0, "redeemed": 0, "redemption_rate": None, "customers": 0, "ordered_again": 0,
        "ordered_again_share": None}


FALLBACK = {"action": "fallback", "unsupported": ["Iceland"]}
NOT_COVERED = {"action": "handoff", "reason": "not_covered", "detail": "0.31"}


def fill_questions(sessions, day: datetime):
    with sessions.begin() as s:
        c = conversation(s, day)
        for minute, (question, guardrail) in enumerate([
            ("Do you ship to Iceland?", FALLBACK),
            ("Can I get my order shipped to Iceland?", NOT_COVERED),
            ("Do you offer gift wrapping?", FALLBACK),
            ("Do you deliver to Iceland?", FALLBACK),
            ("Can you gift wrap my order?", NOT_COVERED),
            ("Is the Trailhead jacket vegan?", NOT_COVERED),
            ("I will sue you", {"action": "handoff", "reason": "legal", "detail": "sue"}),  # needs a person
            ("Do you sell tents?", None),  # answered
            ("Do you sell kayaks?", {"action": "claims_removed", "unsupported": []}),  # answered
        ]):
            turn(s, c, question, day + timedelta(minutes=minute), guardrail)
        old = conversation(s, day - timedelta(days=30))
        turn(s, old, "Do you ship to Iceland?", day - timedelta(days=30), FALLBACK)  # outside the window


def test_unanswered_questions_are_grouped_by_meaning(sessions, embedder):
    fill_questions(sessions, at(8))
    started = time.perf_counter()
    table = analytics.content_gaps(sessions, WINDOW, embedder.embed)
    print(f"\ngrouped {table.summary['unanswered']} questions in {(time.perf_counter() - started) * 1000:.0f} ms")
    assert table.summary == {"unanswered": 6, "groups": 3}
    assert [(row[0], row[1]) for row in table.rows] == [
        (3, "Do you ship to Iceland?"), (2, "Can you gift wrap my order?"), (1, "Is the Trailhead jacket vegan?")]
    assert set(table.rows[0][2].split(" | ")) == {"Can I get my order shipped to Iceland?", "Do you deliver to Iceland?"}
    assert table.rows[0][3] == "2026-03-08 12:03"  # last asked


@pytest.mark.parametrize("threshold,groups", [(0.99, 6), (0.6, 3), (0.0, 1)])
def test_the_similarity_threshold_decides_the_groups(embedder, threshold, groups):
    now = datetime.now(timezone.utc)
    questions = [(q, now) for q in ("Do you ship to Iceland?", "Do you deliver to Iceland?",
                                    "Can I get my order shipped to Iceland?", "Do you offer gift wrapping?",
                                    "Can you gift wrap my order?", "Is the Trailhead jacket vegan?")]
    grouped = analytics.group_questions(questions, embedder.embed, threshold)
    assert len(grouped) == groups and sum(g["count"] for g in grouped) == 6


# --- the page and its CSVs, through the app ---

@pytest.fixture
def agent_client(client):
    create_agent(client.app.state.desk.sessions, "alice", PASSWORD)
    assert log_in(client, follow_redirects=False).status_code == 303
    return client


def read_csv(response) -> list[dict]:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_the_page_and_its_csvs(agent_client):
    sessions = agent_client.app.state.desk.sessions
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    fill_questions(sessions, today)
    with sessions.begin() as s:
        c = conversation(s, today)
        turn(s, c, "=HYPERLINK(\"http://evil.example\")", today, FALLBACK)  # a formula, as a shopper typed it
        handoff(s, c, "not_covered", today, reply_after_s=90)
        s.add(ConversationRating(conversation_id=c, score=4, resolved_by="agent", created_at=today))
        s.add(RetentionOffer(trigger_key="page", conversation_id=c, customer_id=12, rule="r", kind="discount",
                             created_at=today))

    started = time.perf_counter()
    page = agent_client.get("/agent/analytics?days=7")
    print(f"\nanalytics page in {(time.perf_counter() - started) * 1000:.0f} ms")
    assert page.status_code == 200
    assert page.text.count('src="data:image/png;base64,') == 5  # every chart has data
    assert 'href="/agent/analytics"' in page.text  # the console's nav links the page
    assert "<strong>2</strong> conversations" in page.text and "Do you ship to Iceland?" in page.text
    assert "Median <strong>1.5 min</strong>" in page.text
    assert "<strong>1</strong> offers made" in page.text
    assert "Hand-off notices" in page.text and "No notices in these days" in page.text

    daily = read_csv(agent_client.get("/agent/analytics/daily.csv?days=7"))
    assert len(daily) == 7 and daily[-1]["day"] == today.date().isoformat()
    assert (daily[-1]["conversations"], daily[-1]["with_person"]) == ("2", "1")
    gaps = read_csv(agent_client.get("/agent/analytics/gaps.csv?days=7"))
    assert gaps[0]["asked"] == "3" and gaps[0]["example"] == "Do you ship to Iceland?"
    assert any(row["example"].startswith("'=HYPERLINK") for row in gaps)  # never a live formula
    ratings = read_csv(agent_client.get("/agent/analytics/ratings.csv"))
    assert ratings[3] == {"score": "4", "resolved_by_bot": "0", "resolved_by_agent": "1", "total": "1"}
    for name in analytics.TABLES:
        assert agent_client.get(f"/agent/analytics/{name}.csv").status_code == 200
    with sessions() as session:
        exports = session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert {e.detail["table"] for e in exports} == set(analytics.TABLES) and exports[0].actor == "agent:alice"


def test_bad_requests_for_the_page(agent_client):
    assert agent_client.get("/agent/analytics/secrets.csv").status_code == 404
    assert agent_client.get("/agent/analytics/daily.csv?days=0").status_code == 422
    assert agent_client.get("/agent/analytics/daily.csv?days=99999").status_code == 422
    page = agent_client.get("/agent/analytics?days=lots")
    assert page.status_code == 200 and "days must be a whole number" in page.text


def test_the_page_needs_a_login(client):
    for url in ("/agent/analytics", "/agent/analytics/daily.csv", "/agent/analytics/gaps.csv"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/agent/login"


def test_the_same_question_asked_again_counts_and_is_shown_once(embedder):
    now = datetime.now(timezone.utc)
    questions = [("Do you ship to Iceland?", now), ("do you  ship to iceland?", now - timedelta(hours=1)),
                 ("Do you ship to Iceland?", now - timedelta(hours=2)), ("Do you offer gift wrapping?", now)]
    grouped = analytics.group_questions(questions, embedder.embed)
    assert [(g["count"], g["example"]) for g in grouped] == [(3, "Do you ship to Iceland?"),
                                                            (1, "Do you offer gift wrapping?")]
    assert grouped[0]["others"] == ["do you  ship to iceland?"] and grouped[0]["last_asked"] == now
