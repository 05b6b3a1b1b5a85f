"""Crashes and outages: turns a dead process left open are closed at the next start, and a
database that stops answering gives fast 503s with Retry-After (and a failing /readyz)
until it comes back, on the real PostgreSQL behind a proxy that cuts it off."""

import dataclasses
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from chatbot.api import create_app
from chatbot.conversations import INTERRUPTED, close_interrupted_turns, start_turn
from evals.tcp_proxy import TcpProxy
from shopcore.store.db import make_engine, session_factory
from shopcore.store.models import Message


def test_turns_left_open_by_a_dead_process_are_closed_honestly(sessions):
    open_turns = [start_turn(sessions, f"question {n}", None, None, "api", history_turns=6) for n in range(3)]
    with sessions() as session:
        assert {m.state for m in session.scalars(select(Message))} == {"pending"}
    assert close_interrupted_turns(sessions, older_than_s=3600) == 0  # too recent for a cautious start
    assert close_interrupted_turns(sessions) == 3
    assert close_interrupted_turns(sessions) == 0  # once
    with sessions() as session:
        for start in open_turns:
            user = session.get(Message, start.message_id)
            answer = session.scalars(select(Message).where(Message.reply_to_id == user.id)).one()
            assert user.state == "ok" and (answer.state, answer.text) == ("error", INTERRUPTED)
            assert "interrupted" in answer.error


def test_a_message_to_a_person_is_not_waiting_for_the_bot(sessions):
    start = start_turn(sessions, "hello", None, None, "api", history_turns=6)
    close_interrupted_turns(sessions)
    from shopcore.store.db import transaction
    from shopcore.store.models import Conversation

    with transaction(sessions) as session:
        session.get(Conversation, start.conversation_id).state = "agent"
    to_agent = start_turn(sessions, "are you there?", start.conversation_id, None, "api", history_turns=6)
    with sessions() as session:
        assert session.get(Message, to_agent.message_id).state == "ok"
    assert close_interrupted_turns(sessions) == 0


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("outage", ["refused", "silent"])
def test_an_unreachable_database_gives_fast_503s_until_it_returns(database_url, make_desk, tiny_model, outage):
    """`refused`: connections reset (a stopped server); `silent`: accepted and never answered
    (a hung server), which only the engine's own watchdogs end."""
    url = make_url(database_url)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        desk = make_desk(tiny_model, max_new_tokens=8, database_url=proxied)
        desk = dataclasses.replace(desk, sessions=session_factory(make_engine(proxied, timeout_s=2)))
        with TestClient(create_app(desk=desk)) as client:
            assert client.post("/v1/chat", json={"message": "Do you ship to Canada?"}).status_code == 200
            assert client.get("/readyz").status_code == 200
            proxy.cut() if outage == "refused" else proxy.silence()
            for accept in ("application/json", "text/event-stream"):
                started = time.monotonic()
                refused = client.post("/v1/chat", json={"message": "Hello?"}, headers={"Accept": accept})
                assert time.monotonic() - started < 4.5
                assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 1
                assert "database" in refused.json()["detail"] and "psycopg" not in refused.text
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["database"].startswith("unreachable")
            assert client.get("/healthz").status_code == 200  # alive, just not ready
            proxy.restore()
            assert client.post("/v1/chat", json={"message": "Back?"}).status_code == 200
            assert client.get("/readyz").json() == {"status": "ready", "database": "ok", "model": "ok"}
