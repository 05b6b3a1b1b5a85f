"""The agent console: accounts, login and expiry, finding conversations, the transcript
view, taking over, replying, correcting and exporting; through the HTTP app."""

import csv
import io
import json
import subprocess
import sys
import time
from base64 import b64encode
from datetime import date, timedelta
from decimal import Decimal

import itsdangerous
import pytest
from sqlalchemy import select

from chatbot.api import session_secret
from chatbot.console.accounts import AccountError, authenticate, create_agent
from chatbot.settings import REPO_ROOT
from chatbot.store.models import (
    AgentAccount,
    AgentAnnotation,
    Conversation,
    Message,
    RetentionOffer,
    RiskScore,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def agent_client(client):
    create_agent(client.app.state.desk.sessions, "alice", PASSWORD)
    response = client.post("/agent/login", data={"username": "alice", "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/agent"
    return client


def chat(client, message, conversation_id=None):
    body = client.post("/v1/chat", json={"message": message, "conversation_id": conversation_id})
    assert body.status_code == 200, body.text
    return body.json()


def score(client, conversation_id, scores, level):
    """Record risk scores for the conversation's shopper messages, as the risk step does."""
    with client.app.state.desk.sessions.begin() as session:
        users = session.scalars(select(Message).where(Message.conversation_id == conversation_id,
                                                      Message.role == "user").order_by(Message.id)).all()
        for message, value in zip(users, scores):
            session.add(RiskScore(message_id=message.id, conversation_id=conversation_id, score=value,
                                  level=level, conversation_score=max(scores), conversation_level=level,
                                  reasons=["angry"] if value > 0.5 else []))
        conversation = session.get(Conversation, conversation_id)
        conversation.risk_score, conversation.risk_level = max(scores), level
        answer = session.scalars(select(Message).where(Message.conversation_id == conversation_id,
                                                       Message.role == "assistant")).all()[-1]
        return answer.id


def offer(client, conversation_id, message_id, code="STAY15-TEST"):
    with client.app.state.desk.sessions.begin() as session:
        session.add(RetentionOffer(trigger_key=f"conversation:{conversation_id}", conversation_id=conversation_id,
                                   message_id=message_id, rule="angry-shopper", kind="discount", code=code,
                                   value=Decimal("15"), unit="percent", cost=Decimal("9.50"),
                                   terms="15% off your next order within 30 days."))


def test_accounts_hash_passwords_and_refuse_bad_ones(sessions):
    create_agent(sessions, "bob", PASSWORD)
    with sessions() as session:
        stored = session.scalars(select(AgentAccount)).one()
    assert stored.password_hash.startswith("$argon2") and PASSWORD not in stored.password_hash
    assert authenticate(sessions, "bob", PASSWORD) == "bob"
    assert authenticate(sessions, "bob", "wrong password!") is None
    assert authenticate(sessions, "nobody", PASSWORD) is None
    for name, password in [("bob", PASSWORD), ("short", "abc"), ("", PASSWORD)]:
        with pytest.raises(AccountError):
            create_agent(sessions, name, password)


def test_create_agent_command(tmp_path):
    env = {"CHATBOT_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "chatbot", "migrate"], cwd=REPO_ROOT, env=env, check=True,
                   capture_output=True)
    done = subprocess.run([sys.executable, "-m", "chatbot", "create-agent", "carol", "--password-stdin"],
                          cwd=REPO_ROOT, env=env, input=PASSWORD + "\n", text=True, capture_output=True)
    assert done.returncode == 0, done.stderr
    again = subprocess.run([sys.executable, "-m", "chatbot", "create-agent", "carol", "--password-stdin"],
                           cwd=REPO_ROOT, env=env, input=PASSWORD + "\n", text=True, capture_output=True)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_wrong_password_is_refused(client):
    create_agent(client.app.state.desk.sessions, "alice", PASSWORD)
    response = client.post("/agent/login", data={"username": "alice", "password": "guess guess guess"})
    assert response.status_code == 401 and "Wrong name or password" in response.text
    assert client.get("/agent", follow_redirects=False).status_code == 303


def test_sessions_expire(agent_client):
    signer = itsdangerous.TimestampSigner(session_secret(agent_client.app.state.desk.settings))

    def session_until(expires: float) -> int:
        login = b64encode(json.dumps({"agent": {"name": "alice", "expires": expires}}).encode())
        agent_client.cookies.clear()
        agent_client.cookies.set("shopdesk_agent", signer.sign(login).decode())
        return agent_client.get("/agent", follow_redirects=False).status_code

    assert session_until(time.time() + 60) == 200
    assert session_until(time.time() - 1) == 303


def test_list_filters_by_risk_offer_date_and_text(agent_client):
    calm = chat(agent_client, "Do you sell tents?")["conversation_id"]
    angry = chat(agent_client, "This is the third time my parcel is late, I'm done with you")["conversation_id"]
    answer_id = score(agent_client, angry, [0.92], "high")
    score(agent_client, calm, [0.05], "low")
    offer(agent_client, angry, answer_id)

    def listed(**query):
        page = agent_client.get("/agent", params=query)
        assert page.status_code == 200
        return {cid for cid in (calm, angry) if f'data-conversation="{cid}"' in page.text}

    assert listed() == {calm, angry}
    assert listed(risk="high") == {angry}
    assert listed(risk="low") == {calm}
    assert listed(offer="offered") == {angry}
    assert listed(offer="none") == {calm}
    assert listed(q="PARCEL is late") == {angry}
    assert listed(q="100%_off") == set()
    today = date.today()
    assert listed(since=str(today - timedelta(days=1)), until=str(today + timedelta(days=1))) == {calm, angry}
    assert listed(since=str(today + timedelta(days=2))) == set()
    page = agent_client.get("/agent", params={"since": "yesterday", "risk": "extreme"})
    assert page.status_code == 200 and "must be a date" in page.text and "unknown risk level" in page.text


def test_transcript_shows_risk_plot_sources_and_offer(agent_client):
    first = chat(agent_client, "My order is late again")
    chat(agent_client, "I want to cancel everything and shop at Summit Gear instead", first["conversation_id"])
    cid = first["conversation_id"]
    answer_id = score(agent_client, cid, [0.55, 0.93], "high")
    offer(agent_client, cid, answer_id)
    page = agent_client.get(f"/agent/conversations/{cid}")
    assert page.status_code == 200
    assert "<svg" in page.text and "churn risk" in page.text
    assert "STAY15-TEST" in page.text and "angry-shopper" in page.text
    assert first["sources"][0]["title"].split(" > ")[0] in page.text
    assert agent_client.get(f"/agent/conversations/{'0' * 32}").status_code == 404


def test_take_over_silences_the_bot_and_the_agent_reply_reaches_the_shopper(agent_client):
    cid = chat(agent_client, "I need a person, please")["conversation_id"]
    response = agent_client.post(f"/agent/conversations/{cid}/take-over", follow_redirects=False)
    assert response.status_code == 303
    quiet = chat(agent_client, "Hello? Anyone there?", cid)
    assert quiet["state"] == "agent" and quiet["answer"] == ""
    agent_client.post(f"/agent/conversations/{cid}/reply", data={"text": "Hi, I'm Alice from the shop."})
    transcript = agent_client.get(f"/v1/conversations/{cid}").json()
    assert transcript["state"] == "agent"
    assert transcript["messages"][-1]["role"] == "agent"
    assert transcript["messages"][-1]["text"] == "Hi, I'm Alice from the shop."
    with agent_client.app.state.desk.sessions() as session:
        assert session.get(Message, transcript["messages"][-1]["id"]).agent == "alice"
    agent_client.post(f"/agent/conversations/{cid}/hand-back")
    assert chat(agent_client, "Thanks!", cid)["state"] == "ok"


def test_correcting_an_answer_stores_an_annotation(agent_client):
    body = chat(agent_client, "How long do I have to return an item?")
    cid, answer_id = body["conversation_id"], body["message_id"]
    better = "You have 30 days from delivery to return unworn items [1]."
    response = agent_client.post(f"/agent/conversations/{cid}/messages/{answer_id}/correct",
                                 data={"corrected_text": better, "note": "cite the policy"})
    assert response.status_code == 200  # redirected back to the transcript
    assert better in response.text
    with agent_client.app.state.desk.sessions() as session:
        note = session.scalars(select(AgentAnnotation)).one()
    assert (note.message_id, note.agent, note.kind, note.corrected_text) == (answer_id, "alice", "correction", better)
    user_message_id = answer_id - 1
    refused = agent_client.post(f"/agent/conversations/{cid}/messages/{user_message_id}/correct",
                                data={"corrected_text": better})
    assert refused.status_code == 422


def test_export_jsonl_and_csv(agent_client):
    cid = chat(agent_client, "Do you price match?")["conversation_id"]
    score(agent_client, cid, [0.2], "low")
    lines = agent_client.get("/agent/export.jsonl").text.splitlines()
    exported = [json.loads(line) for line in lines]
    assert [c["id"] for c in exported] == [cid]
    assert [m["role"] for m in exported[0]["messages"]] == ["user", "assistant"]
    assert exported[0]["messages"][0]["risk"]["score"] == 0.2
    rows = list(csv.DictReader(io.StringIO(agent_client.get("/agent/export.csv").text)))
    assert [r["role"] for r in rows] == ["user", "assistant"] and rows[0]["text"] == "Do you price match?"
    assert agent_client.get("/agent/export.csv", params={"risk": "high"}).text.count("\n") == 1
    assert agent_client.get("/agent/export.xml").status_code == 404
