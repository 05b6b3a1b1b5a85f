"""The agent console: accounts, login and expiry, finding conversations, the transcript
view, taking over, replying, correcting and exporting; through the HTTP app."""

import csv
import io
import json
import re
import subprocess
import sys
import time
from base64 import b64encode
from datetime import date, datetime, timedelta, timezone

import itsdangerous
import pytest
from sqlalchemy import select, update

from chatbot.api import session_secret
from chatbot.console.accounts import AccountError, authenticate, create_agent, delete_agent
from chatbot.identity import mint_token
from shopcore.settings import REPO_ROOT
from shopcore.store.models import AgentAccount, AgentAnnotation, AgentSession, Message

PASSWORD = "correct horse battery"
TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client, page: str) -> str:
    """The CSRF token a console page puts in its forms, as a browser would read it."""
    return TOKEN_FIELD.search(client.get(page).text).group(1)


def post_form(client, url: str, data: dict | None = None, page: str = "/agent", **kwargs):
    """Submit a console form the way its page does: with the page's CSRF token."""
    return client.post(url, data={**(data or {}), "csrf_token": form_token(client, page)}, **kwargs)


def log_in(client, password: str = PASSWORD, **kwargs):
    return post_form(client, "/agent/login", {"username": "alice", "password": password}, page="/agent/login",
                     **kwargs)


@pytest.fixture
def agent_client(client):
    create_agent(client.app.state.desk.sessions, "alice", PASSWORD)
    response = log_in(client, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/agent"
    return client


def chat(client, message, conversation_id=None, customer_id=None):
    token = None
    if customer_id is not None:
        token = mint_token(customer_id, client.app.state.desk.settings.secret_key.get_secret_value())
    body = client.post("/v1/chat", json={"message": message, "conversation_id": conversation_id,
                                         "customer_token": token})
    assert body.status_code == 200, body.text
    return body.json()


def upset_customer(client):
    """A signed-in customer who says they are leaving: the real risk step scores it high and
    the offer policy makes a retention offer."""
    first = chat(client, "My order is late again and nobody answers my emails.", customer_id=12)
    leaving = chat(client, "Please close my account, I won't be back.", first["conversation_id"], 12)
    assert leaving["risk"]["level"] == "high" and leaving["offer"] is not None, leaving
    return leaving


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
    response = log_in(client, "guess guess guess")
    assert response.status_code == 401 and "Wrong name or password" in response.text
    assert client.get("/agent", follow_redirects=False).status_code == 303


def test_sessions_expire(agent_client):
    assert agent_client.get("/agent", follow_redirects=False).status_code == 200
    with agent_client.app.state.desk.sessions.begin() as session:
        session.execute(update(AgentSession).values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert agent_client.get("/agent", follow_redirects=False).status_code == 303


def test_a_forged_session_cookie_opens_nothing(client):
    """Even signed with the right key, a cookie naming an agent but no login row is refused."""
    create_agent(client.app.state.desk.sessions, "alice", PASSWORD)
    signer = itsdangerous.TimestampSigner(session_secret(client.app.state.desk.settings))
    for login in ({"name": "alice", "expires": time.time() + 600}, {"secret": "guessed"}):
        client.cookies.set("shopdesk_agent", signer.sign(b64encode(json.dumps({"agent": login}).encode())).decode())
        assert client.get("/agent", follow_redirects=False).status_code == 303


def test_logout_ends_the_login_for_every_copy_of_the_cookie(agent_client):
    cid = chat(agent_client, "Do you sell tents?", customer_id=12)["conversation_id"]
    copied = agent_client.cookies.get("shopdesk_agent")
    assert post_form(agent_client, "/agent/logout", follow_redirects=False).status_code == 303
    agent_client.cookies.set("shopdesk_agent", copied)  # the attacker's copy
    assert agent_client.get("/agent", follow_redirects=False).status_code == 303
    assert agent_client.get(f"/v1/conversations/{cid}").status_code == 404  # not an agent any more


def test_a_deleted_agents_cookie_reads_nothing(agent_client):
    cid = chat(agent_client, "Do you sell tents?", customer_id=12)["conversation_id"]
    assert agent_client.get(f"/v1/conversations/{cid}").status_code == 200  # an agent reads a customer's
    delete_agent(agent_client.app.state.desk.sessions, "alice")
    assert agent_client.get(f"/v1/conversations/{cid}").status_code == 404
    assert agent_client.get("/agent", follow_redirects=False).status_code == 303
    with agent_client.app.state.desk.sessions() as session:
        assert session.scalars(select(AgentSession)).first() is None


def test_logins_are_throttled_per_name_and_address(client):
    create_agent(client.app.state.desk.sessions, "alice", PASSWORD)
    limit = int(client.app.state.desk.settings.login_rate_limit.split("/")[0])
    statuses = [log_in(client, f"wrong guess number {i}").status_code for i in range(limit)]
    assert statuses == [401] * limit
    throttled = log_in(client)  # even the right password waits now
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert "Too many login attempts" in throttled.text


@pytest.mark.parametrize("password", ["Password123", "password1234", "qwertyuiop12", "alicealice1"])
def test_easily_guessed_passwords_are_refused(sessions, password):
    with pytest.raises(AccountError, match="too easy to guess"):
        create_agent(sessions, "alice", password)


def test_list_filters_by_risk_offer_date_and_text(agent_client):
    calm = chat(agent_client, "Do you sell tents?")["conversation_id"]
    angry = upset_customer(agent_client)["conversation_id"]

    def listed(**query):
        page = agent_client.get("/agent", params=query)
        assert page.status_code == 200
        return {cid for cid in (calm, angry) if f'data-conversation="{cid}"' in page.text}

    assert listed() == {calm, angry}
    assert listed(risk="high") == {angry}
    assert listed(risk="low") == {calm}
    assert listed(offer="offered") == {angry}
    assert listed(offer="none") == {calm}
    assert listed(offer="redeemed") == set()
    assert listed(q="CLOSE my account") == {angry}
    assert listed(q="100%_off") == set()
    today = date.today()
    assert listed(since=str(today - timedelta(days=1)), until=str(today + timedelta(days=1))) == {calm, angry}
    assert listed(since=str(today + timedelta(days=2))) == set()
    page = agent_client.get("/agent", params={"since": "yesterday", "risk": "extreme"})
    assert page.status_code == 200 and "must be a date" in page.text and "unknown risk level" in page.text
    assert "committed of a" in page.text  # the month's offer spend against the budget


def test_transcript_shows_risk_plot_sources_and_offer(agent_client):
    reply = upset_customer(agent_client)
    page = agent_client.get(f"/agent/conversations/{reply['conversation_id']}")
    assert page.status_code == 200
    assert "<svg" in page.text and "churn risk" in page.text
    assert reply["offer"]["code"] in page.text and "churn:" in page.text  # the offer and why
    assert reply["sources"][0]["title"].split(" > ")[0] in page.text
    assert agent_client.get(f"/agent/conversations/{'0' * 32}").status_code == 404


def test_the_transcript_shows_what_a_shoppers_message_was_understood_as(agent_client):
    cid = chat(agent_client, "how much is the aspen 2p tent?")["conversation_id"]
    chat(agent_client, "and the 3-person version?", cid)
    page = agent_client.get(f"/agent/conversations/{cid}").text
    assert "Understood as: <em>how much is the Aspen 3P Backpacking Tent?</em>" in page
    assert page.count("Understood as") == 1  # the first message was understood as typed


def test_take_over_silences_the_bot_and_the_agent_reply_reaches_the_shopper(agent_client):
    cid = chat(agent_client, "I need a person, please")["conversation_id"]
    response = post_form(agent_client, f"/agent/conversations/{cid}/take-over", follow_redirects=False)
    assert response.status_code == 303
    quiet = chat(agent_client, "Hello? Anyone there?", cid)
    assert quiet["state"] == "agent" and quiet["answer"] == ""
    post_form(agent_client, f"/agent/conversations/{cid}/reply", {"text": "Hi, I'm Alice from the shop."})
    transcript = agent_client.get(f"/v1/conversations/{cid}").json()
    assert transcript["state"] == "agent"
    assert transcript["messages"][-1]["role"] == "agent"
    assert transcript["messages"][-1]["text"] == "Hi, I'm Alice from the shop."
    with agent_client.app.state.desk.sessions() as session:
        assert session.get(Message, transcript["messages"][-1]["id"]).agent == "alice"
    post_form(agent_client, f"/agent/conversations/{cid}/hand-back")
    assert chat(agent_client, "Thanks!", cid)["state"] == "ok"


def test_correcting_an_answer_stores_an_annotation(agent_client):
    body = chat(agent_client, "How long do I have to return an item?")
    cid, answer_id = body["conversation_id"], body["message_id"]
    better = "You have 30 days from delivery to return unworn items [1]."
    response = post_form(agent_client, f"/agent/conversations/{cid}/messages/{answer_id}/correct",
                         {"corrected_text": better, "note": "cite the policy"})
    assert response.status_code == 200  # redirected back to the transcript
    assert better in response.text
    with agent_client.app.state.desk.sessions() as session:
        note = session.scalars(select(AgentAnnotation)).one()
    assert (note.message_id, note.agent, note.kind, note.corrected_text) == (answer_id, "alice", "correction", better)
    user_message_id = answer_id - 1
    refused = post_form(agent_client, f"/agent/conversations/{cid}/messages/{user_message_id}/correct",
                        {"corrected_text": better})
    assert refused.status_code == 422


def test_export_jsonl_and_csv(agent_client):
    cid = chat(agent_client, "Do you price match?")["conversation_id"]
    lines = agent_client.get("/agent/export.jsonl").text.splitlines()
    exported = [json.loads(line) for line in lines]
    assert [c["id"] for c in exported] == [cid]
    assert [m["role"] for m in exported[0]["messages"]] == ["user", "assistant"]
    assert 0 <= exported[0]["messages"][0]["risk"]["score"] <= 1  # scored by the risk step
    rows = list(csv.DictReader(io.StringIO(agent_client.get("/agent/export.csv").text)))
    assert [r["role"] for r in rows] == ["user", "assistant"] and rows[0]["text"] == "Do you price match?"
    assert float(rows[0]["message_risk"]) == exported[0]["messages"][0]["risk"]["score"]
    assert agent_client.get("/agent/export.csv", params={"risk": "high"}).text.count("\n") == 1
    assert agent_client.get("/agent/export.xml").status_code == 404


def test_csv_export_never_hands_a_spreadsheet_a_formula(agent_client):
    formulas = ['=HYPERLINK("http://evil.example","refund")', "+1+1", "-2+3", "@SUM(A1)"]
    cid = None
    for text in formulas:
        cid = chat(agent_client, text, cid)["conversation_id"]
    rows = list(csv.DictReader(io.StringIO(agent_client.get("/agent/export.csv").text)))
    shopper = [r["text"] for r in rows if r["role"] == "user"]
    assert shopper == ["'" + text for text in formulas]
    assert all(not value.startswith(("=", "+", "-", "@")) for r in rows for value in r.values())
    exported = json.loads(agent_client.get("/agent/export.jsonl").text.splitlines()[0])
    assert exported["messages"][0]["text"] == formulas[0]  # JSON keeps the words as written


def test_console_forms_need_the_pages_token(agent_client):
    """A page on another port of the same host can post with the agent's cookie (SameSite=Lax
    allows it) but cannot read the console's token: every form post without it is refused."""
    cid = chat(agent_client, "How long do I have to return an item?")
    answer_id, cid = cid["message_id"], cid["conversation_id"]
    forged = [
        (f"/agent/conversations/{cid}/reply", {"text": "Send your card number to evil.example"}),
        (f"/agent/conversations/{cid}/messages/{answer_id}/correct", {"corrected_text": "Returns: never."}),
        (f"/agent/conversations/{cid}/take-over", {}),
        (f"/agent/conversations/{cid}/hand-back", {}),
        ("/agent/logout", {}),
    ]
    for url, data in forged:
        for token in (None, "", "x" * 43):
            body = data if token is None else {**data, "csrf_token": token}
            assert agent_client.post(url, data=body, follow_redirects=False).status_code == 403, (url, token)
    transcript = agent_client.get(f"/v1/conversations/{cid}").json()
    assert transcript["state"] != "agent" and [m["role"] for m in transcript["messages"]] == ["user", "assistant"]
    with agent_client.app.state.desk.sessions() as session:
        assert session.scalars(select(AgentAnnotation)).first() is None
    assert agent_client.get("/agent", follow_redirects=False).status_code == 200  # still logged in


def test_login_starts_a_fresh_token(client):
    create_agent(client.app.state.desk.sessions, "alice", PASSWORD)
    before = form_token(client, "/agent/login")
    assert client.post("/agent/login", data={"username": "alice", "password": PASSWORD}).status_code == 403
    assert log_in(client, follow_redirects=False).status_code == 303
    assert form_token(client, "/agent") != before
