"""The HTTP API through a test client: chat as JSON and as Server-Sent Events, bad input,
rate limits, widget keys and CORS, metrics, and the widget script."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chatbot.identity import mint_token
from shopcore.store.models import Conversation, Message


# Leaving, and why: two kinds of signal, as the default offer policy asks before a code.
LEAVING = "My order is late again. Please close my account, I won't be back."


def sse(body: str) -> list[tuple[str, dict]]:
    """Parse a text/event-stream body into (event, data) pairs."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        lines = block.strip().splitlines()
        name = next((line[6:].strip() for line in lines if line.startswith("event:")), "message")
        data = [line[5:].strip() for line in lines if line.startswith("data:")]
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def stored(client, conversation_id):
    with client.app.state.desk.sessions() as session:
        return session.scalars(select(Message).where(Message.conversation_id == conversation_id)
                               .order_by(Message.id)).all()


def counts(client):
    with client.app.state.desk.sessions() as session:
        return (session.scalar(select(func.count()).select_from(Conversation)),
                session.scalar(select(func.count()).select_from(Message)))


def test_json_chat_answers_with_the_contract_fields_and_stores_the_turn(client):
    response = client.post("/v1/chat", json={"message": "Can I return worn boots?"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"answer", "sources", "risk", "offer", "conversation_id", "latency_ms"}
    assert all(set(s) >= {"doc_id", "title", "score"} for s in body["sources"]) and body["sources"]
    user, answer = stored(client, body["conversation_id"])
    assert (user.role, user.text) == ("user", "Can I return worn boots?")
    assert answer.id == body["message_id"] and answer.state == "ok"

    again = client.post("/v1/chat", json={"message": "And sandals?",
                                          "conversation_id": body["conversation_id"]})
    assert again.json()["conversation_id"] == body["conversation_id"]
    assert len(stored(client, body["conversation_id"])) == 4


def test_sse_chat_streams_sources_tokens_then_done(client):
    with client.stream("POST", "/v1/chat", json={"message": "Do you ship to Canada?"},
                       headers={"Accept": "text/event-stream"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse(response.read().decode())
    names = [name for name, _ in events]
    assert names[-1] == "done" and "token" in names and names.index("sources") < names.index("token")
    assert set(names) <= {"sources", "risk", "token", "offer", "done"}
    done = events[-1][1]
    streamed = ""
    for name, data in events:  # a `replace` token withdraws what came before it
        if name == "token":
            streamed = data["text"] if data.get("replace") else streamed + data["text"]
    assert done["answer"] == streamed.strip()
    sources = next(data for name, data in events if name == "sources")["sources"]
    assert [s["doc_id"] for s in done["sources"]] == [s["doc_id"] for s in sources]
    assert stored(client, done["conversation_id"])[-1].text == done["answer"]


@pytest.mark.parametrize(
    "send, status",
    [
        (dict(json={"message": ""}), 422),
        (dict(json={"message": "   "}), 422),
        (dict(json={"message": "x" * 5000}), 422),  # over CHATBOT_MAX_MESSAGE_CHARS
        (dict(json={"message": "x" * 100_000}), 413),  # over CHATBOT_MAX_REQUEST_BYTES
        (dict(content=b'{"message": "hi"', headers={"content-type": "application/json"}), 422),
        (dict(content=b"\xff\xfe not utf-8", headers={"content-type": "application/json"}), 422),
        (dict(json={"message": 42}), 422),
        (dict(json={}), 422),
        (dict(json={"message": "a\x00b"}), 422),
        (dict(json={"message": "hi", "conversation_id": "../../etc/passwd"}), 422),
        (dict(json={"message": "hi", "conversation_id": "0" * 32}), 404),
    ],
    ids=["empty", "blank", "too-long", "100KB", "broken-json", "not-utf8", "not-a-string",
         "missing", "nul", "bad-id", "unknown-conversation"],
)
def test_bad_input_gets_a_clear_json_error_and_stores_nothing(client, send, status):
    before = counts(client)
    response = client.post("/v1/chat", **send)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"]
    assert counts(client) == before


def test_bad_input_over_sse_is_an_http_error_not_a_stream(client):
    response = client.post("/v1/chat", json={"message": ""}, headers={"Accept": "text/event-stream"})
    assert response.status_code == 422 and "empty" in response.json()["detail"]


def test_rate_limit_per_address_answers_429_with_retry_after(api_app):
    with TestClient(api_app(rate_limit_per_address="3/minute")) as client:
        statuses = [client.post("/v1/chat", json={"message": ""}).status_code for _ in range(5)]
        assert statuses == [422, 422, 422, 429, 429]
        refused = client.post("/v1/chat", json={"message": "hello"})
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "address" in refused.json()["detail"]


def test_rate_limit_per_widget_key_counts_all_addresses_using_it(api_app):
    app = api_app(rate_limit_per_address="100/minute", rate_limit_per_key="2/minute",
                  widget_keys={"pk_a": ["https://shop-a.example"], "pk_b": ["https://shop-b.example"]})
    with TestClient(app) as client:
        a = {"X-Widget-Key": "pk_a", "Origin": "https://shop-a.example"}
        b = {"X-Widget-Key": "pk_b", "Origin": "https://shop-b.example"}
        assert [client.post("/v1/chat", json={"message": ""}, headers=a).status_code
                for _ in range(3)] == [422, 422, 429]
        assert client.post("/v1/chat", json={"message": ""}, headers=b).status_code == 422
        assert client.post("/v1/chat", json={"message": ""}).status_code == 422  # no key: address only


def test_widget_keys_are_enforced_per_origin_with_cors(api_app):
    app = api_app(widget_keys={"pk_shop": ["https://shop.example"]})
    with TestClient(app) as client:
        preflight = client.options("/v1/chat", headers={
            "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-widget-key"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
        evil = client.options("/v1/chat", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in evil.headers

        def chat(**headers):
            return client.post("/v1/chat", json={"message": "hi"}, headers=headers).status_code

        assert chat(Origin="https://shop.example", **{"X-Widget-Key": "pk_shop"}) == 200
        assert chat(Origin="https://evil.example", **{"X-Widget-Key": "pk_shop"}) == 403
        assert chat(Origin="https://shop.example") == 401  # a browser on another origin needs a key
        assert chat(**{"X-Widget-Key": "pk_nope"}) == 401
        assert chat() == 200  # a shop's own backend calling server to server


def test_metrics_count_requests_turns_and_tokens(client):
    def value(text, name):
        lines = [line for line in text.splitlines() if line.startswith(name)]
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines)

    before = client.get("/metrics").text
    client.post("/v1/chat", json={"message": "What does the warranty cover?"})
    after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    for name in ('chatbot_http_requests_total{method="POST",route="/v1/chat",status="200"}',
                 'chatbot_turns_total{mode="json",state="ok"}', "chatbot_generated_tokens_total",
                 "chatbot_time_to_first_token_seconds_count"):
        assert value(after.text, name) > value(before, name), name
    assert "chatbot_offers_total" in after.text and "chatbot_chats_in_flight" in after.text


def test_health_docs_and_widget_script(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["chunks"] > 0
    assert "/v1/chat" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200
    script = client.get("/widget.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "attachShadow" in script.text and "text/event-stream" in script.text
    assert 'src="/widget.js"' in client.get("/widget/demo").text
    assert client.get("/").status_code == 200  # the Gradio chat page


def test_agent_console_requires_login(client):
    response = client.get("/agent", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/agent/login"
    assert client.get("/agent/export.csv", follow_redirects=False).status_code == 303


def test_sse_streams_risk_and_a_retention_offer(client):
    token = mint_token(12, client.app.state.desk.settings.secret_key.get_secret_value())
    with client.stream("POST", "/v1/chat", headers={"Accept": "text/event-stream"}, json={
            "message": LEAVING, "customer_token": token}) as response:
        events = sse(response.read().decode())
    risk = next(data for name, data in events if name == "risk")
    offer = next(data for name, data in events if name == "offer")
    done = events[-1][1]
    assert risk["level"] == "high" and done["risk"] == risk
    assert offer["code"] and done["offer"] == offer
    assert [name for name, _ in events].index("offer") > [name for name, _ in events].index("token")


def test_redeem_an_offer_once_and_only_as_its_customer(client):
    secret = client.app.state.desk.settings.secret_key.get_secret_value()
    mine = mint_token(12, secret)
    made = client.post("/v1/chat", json={"message": LEAVING, "customer_token": mine}).json()
    code = made["offer"]["code"]

    def redeem(token, **extra):
        return client.post(f"/v1/offers/{code}/redeem", json={"customer_token": token, **extra})

    assert redeem(mint_token(13, secret)).status_code == 404  # someone else's code: unknown
    assert redeem("not-a-token").status_code == 404
    used = redeem(mine, order_number="A9999")
    assert used.status_code == 200 and used.json()["state"] == "redeemed" and used.json()["code"] == code
    again = redeem(mine)
    assert again.status_code == 409 and "redeemed" in again.json()["detail"]
    assert client.post("/v1/offers/NO-SUCH-CODE/redeem", json={"customer_token": mine}).status_code == 404
    assert client.post("/v1/offers/bad code!/redeem", json={"customer_token": mine}).status_code == 422


def test_a_lone_surrogate_gets_a_json_422_and_is_not_logged(client, caplog):
    secret = "my card 4111 1111 1111 1111 \ud800"
    body = json.dumps({"message": secret})  # valid JSON: the surrogate is escaped
    before = counts(client)
    response = client.post("/v1/chat", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/json")
    assert "unicode" in response.text.lower() and "4111" not in response.text
    assert "4111" not in caplog.text
    assert counts(client) == before


def test_when_every_answer_slot_is_taken_a_turn_is_refused_before_it_starts(client):
    """503 with Retry-After before anything is stored or streamed, never a 200 that fails in
    the stream; the slots come back as turns end."""
    slots = client.app.state.turn_slots
    assert slots.size == client.app.state.desk.settings.max_batch + client.app.state.desk.settings.max_queue
    taken = [slots.take() for _ in range(slots.size)]
    assert slots.take() is None
    before = counts(client)
    for accept in ("application/json", "text/event-stream"):
        refused = client.post("/v1/chat", json={"message": "Do you ship to Canada?"}, headers={"Accept": accept})
        assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["content-type"].startswith("application/json")
    assert counts(client) == before
    taken.pop().release()
    with client.stream("POST", "/v1/chat", json={"message": "Do you ship to Canada?"},
                       headers={"Accept": "text/event-stream"}) as response:
        assert response.status_code == 200
        assert [name for name, _ in sse(response.read().decode())][-1] == "done"
    assert client.post("/v1/chat", json={"message": "And to Mexico?"}).status_code == 200
    assert slots.in_use == slots.size - 1  # both turns gave their slot back
    for slot in taken:
        slot.release()
        slot.release()  # once only, however often
    assert slots.in_use == 0
