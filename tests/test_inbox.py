"""The inbox (issue 29): a hand-off is a request that waits, is claimed by exactly one agent,
is answered, resolved or returned to the bot, and rated once; its timeline feeds the live
console and the widget. On SQLite and PostgreSQL, and through the HTTP app."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import inspect, select

from chatbot import inbox, live
from chatbot.console.actions import agent_reply, claim, hand_back, resolve, take_over
from chatbot.console.accounts import create_agent
from chatbot.errors import ConversationNotFound, InvalidMessage
from chatbot.identity import mint_token
from shopcore.profile import Hours
from shopcore.store.db import alembic_config, make_engine, transaction
from shopcore.store.models import (
    AuditEvent,
    Conversation,
    ConversationEvent,
    ConversationRating,
    Customer,
    HandoffRequest,
    Message,
    Order,
)
from tests.test_console import PASSWORD, TOKEN_FIELD as TOKEN, chat, log_in, post_form

INBOX_TABLES = {"handoff_requests", "conversation_events", "saved_replies", "conversation_ratings",
                "notification_deliveries"}


def new_conversation(sessions, risk_level="low", customer_id=None, answered=True) -> str:
    with transaction(sessions) as session:
        conversation = Conversation(risk_level=risk_level, customer_id=customer_id)
        session.add(conversation)
        session.flush()
        session.add(Message(conversation_id=conversation.id, role="user", text="where is my parcel?"))
        if answered:
            session.add(Message(conversation_id=conversation.id, role="assistant", text="Let me get a person."))
        return conversation.id


def kinds(sessions, conversation_id) -> list[str]:
    return [e["kind"] for e in inbox.timeline(sessions, conversation_id)]


def test_migration_creates_the_inbox_and_goes_back(database_url):
    engine = make_engine(database_url)
    assert INBOX_TABLES <= set(inspect(engine).get_table_names())
    command.downgrade(alembic_config(database_url), "hardening_0005")
    assert not INBOX_TABLES & set(inspect(engine).get_table_names())
    command.upgrade(alembic_config(database_url), "head")
    assert INBOX_TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_a_hand_off_opens_one_request_with_its_event(sessions):
    cid = new_conversation(sessions)
    first, opened = inbox.request_person(sessions, cid, "not_covered", language="es")
    again, opened_again = inbox.request_person(sessions, cid, "legal")
    assert opened and not opened_again and again.id == first.id and again.reason == "not_covered"
    assert first.state == "waiting" and first.language == "es" and first.created_at.tzinfo is not None
    assert kinds(sessions, cid) == ["handoff_requested"]
    with pytest.raises(ConversationNotFound):
        inbox.request_person(sessions, "0" * 32, "legal")


def test_two_hand_offs_at_once_open_one_request(sessions):
    """The partial unique index, not a check-then-insert, keeps one request open."""
    cid = new_conversation(sessions)
    barrier, results = threading.Barrier(4), []

    def ask():
        barrier.wait()
        results.append(inbox.request_person(sessions, cid, "shopper_asked"))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(results) == 4 and sum(opened for _, opened in results) == 1
    assert len({r.id for r, _ in results}) == 1
    with sessions() as session:
        assert len(session.scalars(select(HandoffRequest)).all()) == 1


@pytest.mark.parametrize("agents", [2, 4])
def test_agents_claiming_at_once_exactly_one_wins(sessions, agents):
    """A conditional UPDATE ... WHERE state = 'waiting': on both engines one claim wins,
    the others are told who got it, over several rounds of simultaneous claims."""
    for _ in range(5):
        cid = new_conversation(sessions)
        inbox.request_person(sessions, cid, "shopper_asked")
        barrier, won, lost = threading.Barrier(agents), [], []

        def grab(name):
            barrier.wait()
            try:
                claim(sessions, cid, name)
                won.append(name)
            except inbox.AlreadyClaimed as exc:
                lost.append(str(exc))

        threads = [threading.Thread(target=grab, args=(f"agent{n}",)) for n in range(agents)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert len(won) == 1 and len(lost) == agents - 1, (won, lost)
        assert all(text.startswith(won[0]) for text in lost)
        request = inbox.open_request(sessions, cid)
        assert request.state == "assigned" and request.agent == won[0] and request.assigned_at is not None
        assert kinds(sessions, cid).count("claimed") == 1
        with sessions() as session:  # the winner's claim is audited, the losers' are not
            assert session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "claim",
                                                                  AuditEvent.conversation_id == cid)).all() == \
                [f"agent:{won[0]}"]
        with sessions() as session:
            assert session.get(Conversation, cid).state == "agent"


def test_priority_by_risk_reason_and_customer_value(sessions):
    assert inbox.priority("high", "legal", Decimal("1500")) > inbox.priority("high", "not_covered", Decimal(0))
    assert inbox.priority("medium", "not_covered", Decimal("400")) > inbox.priority("medium", "not_covered", Decimal(0))
    assert inbox.priority("low", "not_covered", Decimal(0)) == 0
    with transaction(sessions) as session:
        session.add(Customer(id=7, name="Big Spender", email="big@example.com", country="US"))
        session.flush()
        session.add(Order(number="A1", customer_id=7, status="delivered", total=Decimal("1200"),
                          placed_at=datetime.now(timezone.utc)))
    rich, _ = inbox.request_person(sessions, new_conversation(sessions, "low", customer_id=7), "not_covered")
    anonymous, _ = inbox.request_person(sessions, new_conversation(sessions, "low"), "not_covered")
    urgent, _ = inbox.request_person(sessions, new_conversation(sessions, "high"), "legal")
    assert urgent.priority > rich.priority > anonymous.priority
    queue = inbox.waiting_queue(sessions)
    assert [q["request"].id for q in queue] == [urgent.id, rich.id, anonymous.id]
    claim(sessions, urgent.conversation_id, "alice")  # assigned ones go below the waiting ones
    assert [q["request"].id for q in inbox.waiting_queue(sessions)] == [rich.id, anonymous.id, urgent.id]


def test_equal_priority_waits_in_arrival_order(sessions):
    ids = [inbox.request_person(sessions, new_conversation(sessions), "not_covered")[0].id for _ in range(3)]
    assert [q["request"].id for q in inbox.waiting_queue(sessions)] == ids


def test_the_whole_life_of_a_hand_off(sessions):
    cid = new_conversation(sessions)
    inbox.request_person(sessions, cid, "shopper_asked")
    with pytest.raises(inbox.NotRatable):  # a person is still to come
        inbox.rate(sessions, cid, None, 5)
    claim(sessions, cid, "alice")
    inbox.add_note(sessions, cid, "alice", "Customer is a journalist, be careful.")
    agent_reply(sessions, cid, "alice", "Hi, Alice here: your parcel is at the depot.")
    agent_reply(sessions, cid, "alice", "It will be delivered tomorrow.")
    request = inbox.open_request(sessions, cid)
    assert request.first_reply_at is not None and request.first_reply_at >= request.assigned_at
    first_reply = request.first_reply_at
    resolve(sessions, cid, "alice")
    with sessions() as session:
        row = session.scalars(select(HandoffRequest)).one()
        assert row.state == "resolved" and row.resolved_at is not None
        assert row.first_reply_at.replace(tzinfo=timezone.utc) == first_reply.replace(tzinfo=timezone.utc)
        assert session.get(Conversation, cid).state == "bot"  # the bot answers again
    assert inbox.open_request(sessions, cid) is None
    with pytest.raises(inbox.NoOpenRequest):
        resolve(sessions, cid, "alice")
    rating = inbox.rate(sessions, cid, None, 4, "  quick and kind  ")
    assert rating == {"conversation_id": cid, "score": 4, "comment": "quick and kind", "resolved_by": "agent"}
    with pytest.raises(inbox.NotRatable):  # once per conversation
        inbox.rate(sessions, cid, None, 1)
    for bad in (0, 6, 2.5):
        with pytest.raises(InvalidMessage):
            inbox.rate(sessions, new_conversation(sessions), None, bad)
    assert kinds(sessions, cid) == ["handoff_requested", "claimed", "note", "agent_reply", "agent_reply",
                                    "resolved", "rated"]
    # A new hand-off later in the same conversation is a new request.
    second, opened = inbox.request_person(sessions, cid, "not_covered")
    assert opened and second.id != row.id


def test_a_bot_answered_conversation_can_be_rated_and_a_silent_one_cannot(sessions):
    cid = new_conversation(sessions)
    assert inbox.rate(sessions, cid, None, 5)["resolved_by"] == "bot"
    with pytest.raises(inbox.NotRatable):
        inbox.rate(sessions, new_conversation(sessions, answered=False), None, 5)
    with pytest.raises(ConversationNotFound):  # someone else's conversation
        with transaction(sessions) as session:
            session.add(Customer(id=3, name="Other", email="o@example.com", country="US"))
        inbox.rate(sessions, new_conversation(sessions, customer_id=3), None, 5)
    with sessions() as session:
        assert len(session.scalars(select(ConversationRating)).all()) == 1


def test_take_over_and_hand_back_keep_the_request_in_step(sessions):
    cid = new_conversation(sessions)
    take_over(sessions, cid, "bob")  # nobody asked: the agent's own request, already theirs
    request = inbox.open_request(sessions, cid)
    assert request.state == "assigned" and request.agent == "bob" and request.reason == "agent"
    hand_back(sessions, cid, "bob")
    with sessions() as session:
        assert session.scalars(select(HandoffRequest.state)).one() == "returned"
        assert session.get(Conversation, cid).state == "bot"
    inbox.request_person(sessions, cid, "legal")
    agent_reply(sessions, cid, "carol", "Hello, Carol here.")  # replying claims the waiting request
    assert inbox.open_request(sessions, cid).agent == "carol"
    assert kinds(sessions, cid) == ["handoff_requested", "claimed", "returned_to_bot", "handoff_requested",
                                    "claimed", "agent_reply"]


def test_expected_wait_is_the_median_of_recent_claims(sessions):
    now = datetime.now(timezone.utc)
    assert inbox.expected_wait_s(sessions, now) is None
    assert inbox.wait_words(None, "en") == "a few minutes"
    with transaction(sessions) as session:
        for minutes in (2, 4, 30):
            cid = Conversation()
            session.add(cid)
            session.flush()
            session.add(HandoffRequest(conversation_id=cid.id, reason="not_covered", state="resolved",
                                       created_at=now - timedelta(hours=1),
                                       assigned_at=now - timedelta(hours=1) + timedelta(minutes=minutes)))
    assert inbox.expected_wait_s(sessions, now) == pytest.approx(240)
    assert inbox.wait_words(240, "en") == "about 4 minutes"
    assert inbox.wait_words(240, "de") == "etwa 4 Minuten"


# The demo shop's hours: weekdays 07:00-19:00 in Denver.
HOURS = Hours.parse({"timezone": "America/Denver", "mon-fri": "07:00-19:00"})
FRIDAY_NIGHT = datetime(2026, 12, 5, 4, 30, tzinfo=timezone.utc)  # Fri 4 Dec 21:30 in Denver
TUESDAY_DAWN = datetime(2026, 12, 8, 12, 0, tzinfo=timezone.utc)  # Tue 8 Dec 05:00 in Denver


def test_the_shopper_hears_the_wait_or_when_someone_will_answer(sessions):
    cid = new_conversation(sessions)
    assert inbox.shopper_status(sessions, cid, None, hours=HOURS)["open"] is False
    inbox.request_person(sessions, cid, "shopper_asked", language="en")
    open_now = datetime(2026, 12, 8, 17, 0, tzinfo=timezone.utc)  # Tue 10:00 in Denver
    staffed = inbox.shopper_status(sessions, cid, None, hours=HOURS, now=open_now)
    assert staffed["state"] == "waiting" and not staffed["ask_contact"]
    assert staffed["text"] == ("A person from our team has been asked to help and will reply here. "
                               "Expected wait: a few minutes.")
    assert inbox.shopper_status(sessions, cid, None, hours=None)["text"] == staffed["text"]  # always staffed
    weekend = inbox.shopper_status(sessions, cid, None, hours=HOURS, now=FRIDAY_NIGHT)
    assert weekend["ask_contact"] and weekend["next_opening"].startswith("2026-12-07T07:00")
    assert "someone will answer on December 7, 2026 at 07:00 (America/Denver)" in weekend["text"]
    early = inbox.shopper_status(sessions, cid, None, hours=HOURS, now=TUESDAY_DAWN)
    assert "someone will answer today at 07:00 (America/Denver)" in early["text"]
    spanish = new_conversation(sessions)
    inbox.request_person(sessions, spanish, "shopper_asked", language="es")
    status = inbox.shopper_status(sessions, spanish, None, hours=HOURS, now=FRIDAY_NIGHT)
    assert "el 7 de diciembre de 2026 a las 07:00" in status["text"]
    assert status["labels"]["email"] == "Su dirección de correo electrónico"
    # The shopper went on in English: the words follow the message just written, not the request's.
    english = inbox.shopper_status(sessions, spanish, None, hours=HOURS, now=FRIDAY_NIGHT, language="en")
    assert "someone will answer on December 7, 2026" in english["text"]
    with pytest.raises(ConversationNotFound):
        inbox.shopper_status(sessions, cid, 42, hours=HOURS)


def test_an_e_mail_address_is_stored_with_the_request_and_masked_in_logs(sessions, caplog):
    cid = new_conversation(sessions)
    with pytest.raises(inbox.NoOpenRequest):
        inbox.leave_contact(sessions, cid, None, "ana@example.com")
    inbox.request_person(sessions, cid, "shopper_asked")
    for bad in ("", "ana", "ana@", "@example.com", "ana@example", "a b@example.com", "ana@@example.com",
                "ana..x@example.com", "x" * 65 + "@example.com", "ana@example.com\nBcc: evil@example.com"):
        with pytest.raises(InvalidMessage):
            inbox.leave_contact(sessions, cid, None, bad)
    with pytest.raises(ConversationNotFound):
        inbox.leave_contact(sessions, cid, 99, "ana@example.com")
    caplog.set_level("INFO", logger="chatbot.inbox")
    assert inbox.leave_contact(sessions, cid, None, " ana.lopez+shop@example.co.uk ").has_contact
    with sessions() as session:
        assert session.scalars(select(HandoffRequest.contact_email)).one() == "ana.lopez+shop@example.co.uk"
    assert "ana.lopez" not in caplog.text and "a***@example.co.uk" in caplog.text
    assert inbox.shopper_status(sessions, cid, None)["contact_left"]


def test_the_live_feed_reads_the_database_past_its_cursor(sessions):
    start = live.now_cursor(sessions)
    cid = new_conversation(sessions)
    inbox.request_person(sessions, cid, "shopper_asked")
    claim(sessions, cid, "alice")
    inbox.add_note(sessions, cid, "alice", "secret: refund approved by the manager")
    message_id = agent_reply(sessions, cid, "alice", "Hello from Alice")
    console, after = live.changes(sessions, start)
    assert [c["kind"] for c in console if c["kind"] != "message"] == ["handoff_requested", "claimed", "note",
                                                                      "agent_reply"]
    assert [c["role"] for c in console if c["kind"] == "message"] == ["user", "assistant", "agent"]
    assert live.changes(sessions, after) == ([], after)  # nothing new
    shopper, _ = live.changes(sessions, live.Cursor(), conversation_id=cid, shopper=True)
    assert [s["kind"] for s in shopper] == ["handoff_requested", "claimed", "agent_reply"]  # no note
    assert shopper[-1]["message_id"] == message_id and shopper[-1]["text"] == "Hello from Alice"
    assert "secret" not in repr(shopper) and "alice" not in repr(shopper)
    other = new_conversation(sessions)
    inbox.request_person(sessions, other, "legal")
    assert live.changes(sessions, live.Cursor(), conversation_id=cid, shopper=True)[0] == shopper
    assert live.Cursor.parse(str(after)) == after and live.Cursor.parse("x-1") is None


def test_events_go_with_a_deleted_conversation(sessions):
    from chatbot.customer_data import delete_customer

    with transaction(sessions) as session:
        session.add(Customer(id=9, name="Leaving", email="l@example.com", country="US"))
    cid = new_conversation(sessions, customer_id=9)
    inbox.request_person(sessions, cid, "shopper_asked")
    inbox.leave_contact(sessions, cid, 9, "l@example.com")
    delete_customer(sessions, 9, "backend")
    with sessions() as session:
        assert session.scalars(select(HandoffRequest)).first() is None
        assert session.scalars(select(ConversationEvent)).first() is None


# Through the HTTP app, with the tiny model.

def test_asking_for_a_person_in_the_chat_opens_a_request_the_console_claims(client):
    sessions = client.app.state.desk.sessions
    token = mint_token(3, client.app.state.desk.settings.secret_key.get_secret_value())
    reply = chat(client, "I want to talk to a real person please", customer_id=3)
    cid = reply["conversation_id"]
    request = inbox.open_request(sessions, cid)
    assert request is not None and request.reason == "shopper_asked" and request.state == "waiting"
    status = client.get(f"/v1/conversations/{cid}/handoff", headers={"X-Customer-Token": token}).json()
    assert status["state"] == "waiting" and status["text"]
    assert client.get(f"/v1/conversations/{cid}/handoff").status_code == 404  # not this shopper's
    bad = client.post(f"/v1/conversations/{cid}/contact", json={"email": "nope", "customer_token": token})
    assert bad.status_code == 422
    assert client.post(f"/v1/conversations/{cid}/contact", json={"email": "a@example.com"}).status_code == 404
    left = client.post(f"/v1/conversations/{cid}/contact", json={"email": "a@example.com", "customer_token": token})
    assert left.status_code == 200 and left.json()["contact_left"]

    create_agent(sessions, "alice", PASSWORD)
    log_in(client)
    queue = client.get("/agent").text
    assert f'data-handoff="{cid}"' in queue and "shopper asked" in queue
    for forged in (None, "x" * 43):  # CSRF on the new forms
        data = {} if forged is None else {"csrf_token": forged}
        assert client.post(f"/agent/conversations/{cid}/claim", data=data, follow_redirects=False).status_code == 403
        assert client.post(f"/agent/conversations/{cid}/notes", data={**data, "text": "x"},
                           follow_redirects=False).status_code == 403
    page = f"/agent/conversations/{cid}"
    assert post_form(client, f"/agent/conversations/{cid}/claim", page=page, follow_redirects=False).status_code == 303
    assert inbox.open_request(sessions, cid).agent == "alice"
    post_form(client, f"/agent/conversations/{cid}/notes", {"text": "VIP, be generous"}, page=page)
    post_form(client, "/agent/saved-replies", {"title": "Greeting", "body": "Hi, this is the Ridgeline team.",
                                               "back": cid}, page=page)
    shown = client.get(page).text
    assert "VIP, be generous" in shown and "Hi, this is the Ridgeline team." in shown
    post_form(client, f"/agent/conversations/{cid}/reply", {"text": "Hi, this is Alice."}, page=page)
    transcript = client.get(f"/v1/conversations/{cid}", headers={"X-Customer-Token": token}).json()
    assert "VIP" not in repr(transcript)  # notes never reach the shopper
    rate = client.post(f"/v1/conversations/{cid}/rating", json={"score": 5, "customer_token": token})
    assert rate.status_code == 409  # still with a person
    post_form(client, f"/agent/conversations/{cid}/resolve", page=page)
    assert client.post(f"/v1/conversations/{cid}/rating", json={"score": 9, "customer_token": token}).status_code == 422
    assert client.post(f"/v1/conversations/{cid}/rating", json={"score": 5}).status_code == 404
    rated = client.post(f"/v1/conversations/{cid}/rating", json={"score": 5, "comment": "Great",
                                                                  "customer_token": token})
    assert rated.status_code == 200 and rated.json()["resolved_by"] == "agent"
    again = client.post(f"/v1/conversations/{cid}/rating", json={"score": 1, "customer_token": token})
    assert again.status_code == 409


def test_console_routes_need_a_login(client):
    cid = chat(client, "Do you ship to Canada?")["conversation_id"]
    for url in ("/agent/live", "/agent/queue"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/agent/login", url
    for url in (f"/agent/conversations/{cid}/claim", f"/agent/conversations/{cid}/resolve",
                f"/agent/conversations/{cid}/notes", "/agent/saved-replies"):
        assert client.post(url, data={"text": "x", "title": "t", "body": "b"},
                           follow_redirects=False).status_code in (303, 403), url
    assert inbox.open_request(client.app.state.desk.sessions, cid) is None


def test_the_shopper_asks_for_a_person_from_the_widget_api(client):
    cid = chat(client, "Do you ship to Canada?")["conversation_id"]
    first = client.post(f"/v1/conversations/{cid}/handoff", json={})
    second = client.post(f"/v1/conversations/{cid}/handoff", json={})
    assert first.status_code == second.status_code == 200 and first.json()["state"] == "waiting"
    with client.app.state.desk.sessions() as session:
        rows = session.scalars(select(HandoffRequest)).all()
    assert len(rows) == 1 and rows[0].reason == "shopper_asked"
    assert client.post(f"/v1/conversations/{'f' * 32}/handoff", json={}).status_code == 404
    # From a page of another origin, the widget key and origin rules of the chat route apply.
    foreign = client.post(f"/v1/conversations/{cid}/handoff", json={}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 401


@pytest.mark.parametrize("guardrail,offer_kind,text,reason", [
    ({"action": "handoff", "reason": "not_covered"}, None, "What's the wifi password at your store?", "not_covered"),
    ({"action": "handoff", "reason": "legal"}, None, "I will sue you", "legal"),
    ({"action": "handoff", "reason": "staff_complaint"}, None, "Can I talk to a real person?", "shopper_asked"),
    ({"action": "handoff", "reason": "staff_complaint"}, None, "let me speak with a manager", "shopper_asked"),
    (None, "handoff", "This is the third late order, I'm done", "offer"),
    (None, "handoff", "I need a human agent now", "shopper_asked"),
    (None, "percent_discount", "I want to talk to someone", None),  # an offer, and no hand-off
    ({"action": "fallback"}, None, "Do you sell kayaks?", None),
    (None, None, "Where is my order?", None),
])
def test_why_a_turn_hands_off(guardrail, offer_kind, text, reason):
    assert inbox.handoff_reason(guardrail, offer_kind, text) == reason


def test_the_offer_policys_hand_off_opens_a_request(sessions):
    from shopcore.schemas import Offer

    cid = new_conversation(sessions, "high")
    offer = Offer(code=None, kind="handoff", value=0, unit="", terms="a person will call", expires_at=None)
    request = inbox.hand_off(sessions, cid, None, offer, "Third late order, I'm cancelling.", "de")
    assert request.reason == "offer" and request.language == "de" and request.priority >= inbox.RISK_POINTS["high"]
    assert inbox.hand_off(sessions, cid, None, None, "thanks", "de") is None


def test_the_chat_page_words_and_its_e_mail_message(sessions):
    cid = new_conversation(sessions)
    assert inbox.chat_page_note(sessions, cid, None) == ""
    assert inbox.chat_page_contact(sessions, cid, None, "ana@example.com") is None  # nobody asked for
    inbox.request_person(sessions, cid, "shopper_asked", language="fr")
    closed = Hours(timezone="UTC", days={})  # never staffed: when is "as soon as they are back"
    note = inbox.chat_page_note(sessions, cid, None, hours=closed, language="fr")
    assert note.startswith("Notre équipe est absente") and "dès son retour" in note and "message à part" in note
    assert inbox.chat_page_note(sessions, cid, None, hours=closed, language="en").startswith("Our team is away")
    assert inbox.chat_page_contact(sessions, cid, None, "where is my order?") is None
    assert inbox.chat_page_contact(sessions, cid, None, " ana@example.com ", "fr").startswith("Merci")
    assert inbox.open_request(sessions, cid).has_contact
    assert "message à part" not in inbox.chat_page_note(sessions, cid, None, hours=closed)


def test_the_agent_who_claims_second_is_told_on_the_page(client):
    from fastapi.testclient import TestClient

    sessions = client.app.state.desk.sessions
    cid = chat(client, "I want to speak with a human please")["conversation_id"]
    create_agent(sessions, "alice", PASSWORD)
    create_agent(sessions, "bob", PASSWORD + "!")
    log_in(client)
    other = TestClient(client.app)  # a second browser: its own cookies
    post_form(other, "/agent/login", {"username": "bob", "password": PASSWORD + "!"}, page="/agent/login")
    page = f"/agent/conversations/{cid}"
    alice_token, bob_token = (TOKEN.search(c.get(page).text).group(1) for c in (client, other))
    first = client.post(f"{page}/claim", data={"csrf_token": alice_token}, follow_redirects=False)
    second = other.post(f"{page}/claim", data={"csrf_token": bob_token}, follow_redirects=False)
    assert first.headers["location"] == page and second.headers["location"] == f"{page}?notice=taken"
    assert "Another agent claimed this conversation first." in other.get(second.headers["location"]).text
    assert inbox.open_request(sessions, cid).agent == "alice"


def test_the_stream_sends_the_status_first_then_each_change_with_its_cursor(sessions):
    import asyncio
    import json

    cid = new_conversation(sessions)
    inbox.request_person(sessions, cid, "shopper_asked")

    async def collect():
        status = lambda: inbox.shopper_status(sessions, cid, None)  # noqa: E731
        return [m async for m in live.stream(sessions, live.Cursor(), conversation_id=cid, shopper=True,
                                             status=status, poll_s=0.05, stream_s=0.3)]

    messages = asyncio.run(collect())
    assert [m["event"] for m in messages] == ["status", "handoff_requested", "status"]
    assert json.loads(messages[0]["data"])["state"] == "waiting"
    cursor = live.Cursor.parse(messages[-1]["id"])
    assert cursor.event_id == inbox.timeline(sessions, cid)[-1]["id"]
    claim(sessions, cid, "alice")

    async def resume():  # from the cursor: only what happened since
        return [m async for m in live.stream(sessions, cursor, conversation_id=cid, shopper=True, poll_s=0.05,
                                             stream_s=0.3)]

    assert [m["event"] for m in asyncio.run(resume())] == ["claimed"]


def test_what_one_process_writes_another_process_streams(database_url):
    """Two engines (two server processes' pools) on one database: a claim made through one
    reaches the other's live feed, with no broker in between."""
    from shopcore.store.db import session_factory

    engines = [make_engine(database_url), make_engine(database_url)]
    writer, reader = (session_factory(engine) for engine in engines)
    try:
        cursor = live.now_cursor(reader)
        cid = new_conversation(writer)
        inbox.request_person(writer, cid, "legal")
        claim(writer, cid, "alice")
        found, _ = live.changes(reader, cursor)
        assert [(f["kind"], f["conversation_id"]) for f in found if f["kind"] != "message"] == [
            ("handoff_requested", cid), ("claimed", cid)]
        assert [q["request"].agent for q in inbox.waiting_queue(reader)] == ["alice"]
    finally:
        for engine in engines:
            engine.dispose()
