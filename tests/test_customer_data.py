"""One customer's data exported or deleted (CLI and the backend's HTTP endpoints), old
conversations deleted by the retention period, and every such action in the audit log."""

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from chatbot.audit import recent
from chatbot.customer_data import delete_old_conversations
from chatbot.identity import mint_token
from shopcore.settings import REPO_ROOT
from shopcore.store.models import Conversation, Customer, Message, Order, RetentionOffer

KEY = "backend-key-4f9a1c7e2b8d6e3f0a5c9b1d7e2f4a6c"


def chat(client, text, customer_id, conversation_id=None):
    token = mint_token(customer_id, client.app.state.desk.settings.secret_key.get_secret_value())
    response = client.post("/v1/chat", json={"message": text, "customer_token": token,
                                             "conversation_id": conversation_id})
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def backend_client(api_app):
    with TestClient(api_app(backend_api_key=KEY)) as client:
        yield client


def count(client, model, **where):
    with client.app.state.desk.sessions() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return session.scalar(query)


def test_the_backend_exports_then_deletes_one_customers_data(backend_client):
    client, auth = backend_client, {"Authorization": f"Bearer {KEY}"}
    first = chat(client, "My order is late again and nobody answers my emails.", 12)
    chat(client, "Please close my account, I won't be back.", 12, first["conversation_id"])
    other = chat(client, "Do you ship to Canada?", 13)
    from chatbot import inbox

    sessions = client.app.state.desk.sessions
    inbox.request_person(sessions, first["conversation_id"], "shopper_asked")
    inbox.leave_contact(sessions, first["conversation_id"], 12, "jo.walker@example.com")

    exported = client.get("/v1/customers/12/data", headers=auth)
    assert exported.status_code == 200
    data = exported.json()
    assert data["customer"]["id"] == 12 and data["orders"]
    assert [m["role"] for m in data["conversations"][0]["messages"]] == ["user", "assistant"] * 2
    assert data["conversations"][0]["messages"][0]["risk"]["level"] in ("low", "medium", "high")
    assert data["offers"] and data["offers"][0]["code"].startswith("RL-")
    handoffs = data["conversations"][0]["handoffs"]  # the request for a person, with the address left there
    assert any(h["contact_email"] == "jo.walker@example.com" for h in handoffs)
    assert data["conversations"][0]["rating"] is None

    deleted = client.delete("/v1/customers/12/data", headers=auth)
    assert deleted.status_code == 200
    assert deleted.json()["deleted"] == {"conversations": 1, "messages": 4, "offers": 1,
                                              "orders": len(data["orders"]), "customers": 1}
    assert count(client, Customer, id=12) == 0 and count(client, Order, customer_id=12) == 0
    assert count(client, Conversation, customer_id=12) == 0 and count(client, RetentionOffer, customer_id=12) == 0
    assert count(client, Conversation, id=other["conversation_id"]) == 1  # nobody else's
    assert client.get("/v1/customers/12/data", headers=auth).status_code == 404
    actions = [(e["actor"], e["action"], e["customer_id"]) for e in recent(client.app.state.desk.sessions)]
    assert actions[:2] == [("backend", "customer_delete", 12), ("backend", "customer_export", 12)]


@pytest.mark.parametrize("header", [None, "Bearer wrong-key", f"Basic {KEY}", f"Bearer {KEY}x"])
def test_only_the_backend_key_opens_customer_data(backend_client, header):
    headers = {"Authorization": header} if header else {}
    assert backend_client.get("/v1/customers/12/data", headers=headers).status_code == 401
    assert backend_client.delete("/v1/customers/12/data", headers=headers).status_code == 401
    assert count(backend_client, Customer, id=12) == 1


def test_without_a_backend_key_the_endpoints_are_off(client):
    assert client.get("/v1/customers/12/data", headers={"Authorization": "Bearer "}).status_code == 404


def test_retention_deletes_only_old_conversations(client):
    old = chat(client, "Do you ship to Canada?", 12)["conversation_id"]
    new = chat(client, "Can I return worn boots?", 13)["conversation_id"]
    sessions = client.app.state.desk.sessions
    with sessions.begin() as session:
        session.execute(update(Conversation).where(Conversation.id == old)
                        .values(updated_at=datetime.now(timezone.utc) - timedelta(days=31)))
    assert delete_old_conversations(sessions, days=30) == 1
    assert count(client, Conversation, id=old) == 0 and count(client, Message, conversation_id=old) == 0
    assert count(client, Conversation, id=new) == 1
    assert recent(sessions)[0]["action"] == "retention_delete"


def test_agent_actions_are_audited(client):
    from tests.test_console import PASSWORD, log_in, post_form
    from chatbot.console.accounts import create_agent

    create_agent(client.app.state.desk.sessions, "alice", PASSWORD)
    log_in(client)
    cid = chat(client, "Do you price match?", 12)
    post_form(client, f"/agent/conversations/{cid['conversation_id']}/take-over")
    post_form(client, f"/agent/conversations/{cid['conversation_id']}/reply", {"text": "Hello from Alice"})
    client.get("/agent/export.csv")
    post_form(client, "/agent/logout")
    actions = [(e["actor"], e["action"]) for e in reversed(recent(client.app.state.desk.sessions))]
    assert actions == [("agent:alice", a) for a in ("login", "take_over", "reply", "export", "logout")]


def test_customer_commands(tmp_path):
    env = {"CHATBOT_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def run(*args, stdin=""):
        return subprocess.run([sys.executable, "-m", "chatbot", *args], cwd=REPO_ROOT, env=env, input=stdin,
                              text=True, capture_output=True)

    assert run("migrate").returncode == 0
    assert subprocess.run([sys.executable, "-m", "knowledge", "load-shop"], cwd=REPO_ROOT, env=env,
                          capture_output=True).returncode == 0
    exported = run("customer", "export", "12")
    assert exported.returncode == 0 and json.loads(exported.stdout)["customer"]["id"] == 12
    refused = run("customer", "delete", "12", stdin="13\n")
    assert refused.returncode == 1 and "nothing deleted" in refused.stderr
    assert run("customer", "delete", "12", "--yes").returncode == 0
    assert run("customer", "export", "12").returncode == 1
    audit = [json.loads(line) for line in run("audit").stdout.splitlines()]
    assert [(e["action"], e["customer_id"]) for e in audit] == [("customer_delete", 12), ("customer_export", 12)]
    assert audit[0]["actor"].startswith("cli:")
