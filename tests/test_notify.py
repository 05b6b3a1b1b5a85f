"""Notices of new hand-offs (chatbot/notify.py) against real local receivers: an HTTP
server that checks the webhook's signature on its own, and an aiosmtpd SMTP server. The
outbox runs on SQLite and PostgreSQL; "processes" are separate engines on one database."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from chatbot.notify import (
    INTERRUPTED,
    deliver_due,
    next_due,
    shown_url,
    sign,
    verify_signature,
)
from shopcore.settings import SettingsError, load_settings
from shopcore.store.db import make_engine, session_factory
from shopcore.store.models import Conversation, HandoffRequest, NotificationDelivery
from tests.conftest import make_settings

SECRET = "whsec-9f3Kq2LmZx7Vb1Nc8Dr4Ty6Hu0Pw5Ej"
SHOPPER_EMAIL = "shopper.private@example.org"


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers with `statuses` in turn (the last one
    repeats) and checks each request's signature itself, as a shop's endpoint would."""

    def __init__(self, statuses=(200,), secret=SECRET):
        self.statuses, self.secret, self.requests = list(statuses), secret.encode(), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "at": time.monotonic(),
                                          "signed": receiver.signed(self.headers.get("X-Desk-Signature", ""), body),
                                          "path": self.path, "authorization": self.headers.get("Authorization")})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/handoff"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def signed(self, header: str, body: bytes) -> bool:
        """The receiver's own check, written from the documentation, not with our helper."""
        fields = dict(part.split("=", 1) for part in header.split(","))
        expected = hmac.new(self.secret, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) <= 300

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def build(*statuses):
        made.append(Receiver(statuses or (200,)))
        return made[-1]

    yield build
    for r in made:
        r.close()


def handoff(sessions, reason="not_covered", created_at=None) -> int:
    with sessions.begin() as session:
        conversation = Conversation(channel="widget", state="agent")
        session.add(conversation)
        session.flush()
        request = HandoffRequest(conversation_id=conversation.id, reason=reason, priority=3, state="waiting",
                                 contact_email=SHOPPER_EMAIL, language="en",
                                 created_at=created_at or datetime.now(timezone.utc))
        session.add(request)
        session.flush()
        return request.id


def deliveries(sessions) -> list[NotificationDelivery]:
    with sessions() as session:
        return list(session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)))


def webhook_settings(tmp_path, url, **overrides):
    return make_settings(tmp_path, notify_webhook_url=url, notify_webhook_secret=SECRET, **overrides)


def until(condition, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_receiver_verifies_the_signed_webhook(sessions, tmp_path, receiver):
    hook = receiver(200)
    settings = webhook_settings(tmp_path, hook.url)
    handoff_id = handoff(sessions, reason="legal")
    started = time.perf_counter()
    assert deliver_due(sessions, settings) == 1
    print(f"\nwebhook delivered in {(time.perf_counter() - started) * 1000:.1f} ms")
    [request] = hook.requests
    assert request["signed"] and request["path"] == "/hooks/handoff"
    body = json.loads(request["body"])
    assert body["event"] == "handoff.requested" and body["handoff"]["id"] == handoff_id
    assert body["handoff"]["reason"] == "legal" and body["handoff"]["contact_email_left"] is True
    assert request["headers"]["X-Desk-Delivery"] == str(body["delivery_id"])
    assert SHOPPER_EMAIL.encode() not in request["body"]  # the address stays in the console
    [delivery] = deliveries(sessions)
    assert (delivery.channel, delivery.state, delivery.attempts, delivery.last_error) == ("webhook", "sent", 1, None)
    assert delivery.sent_at is not None and delivery.target == hook.url
    assert deliver_due(sessions, settings) == 0 and len(hook.requests) == 1  # once


@pytest.mark.parametrize("change,valid", [
    ({}, True),
    ({"body": b'{"event":"handoff.requested","delivery_id":2}'}, False),  # tampered body
    ({"secret": b"another-secret-another-secret-123"}, False),
    ({"age": 301}, False),  # a replay from more than five minutes ago
    ({"header": "t=notanumber,v1=00"}, False),
    ({"header": ""}, False),
])
def test_signature_checks(change, valid):
    body, secret, now = b'{"event":"handoff.requested","delivery_id":1}', SECRET.encode(), 1_767_225_600
    header = change.get("header", sign(secret, body, now - change.get("age", 0)))
    assert verify_signature(change.get("secret", secret), change.get("body", body), header, now=now) is valid


def test_a_failing_receiver_is_retried_with_backoff_until_it_takes_the_notice(sessions, tmp_path, receiver):
    hook = receiver(500, 503, 200)
    settings = webhook_settings(tmp_path, hook.url, notify_backoff_s=60)
    handoff(sessions)
    t0 = datetime.now(timezone.utc)
    assert deliver_due(sessions, settings, now=t0) == 1  # attempt 1: 500
    [delivery] = deliveries(sessions)
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
    assert deliver_due(sessions, settings, now=t0 + timedelta(seconds=59)) == 0  # backoff not passed
    assert deliver_due(sessions, settings, now=t0 + timedelta(seconds=60)) == 1  # attempt 2: 503
    assert deliver_due(sessions, settings, now=t0 + timedelta(seconds=179)) == 0  # waits double: 60 + 120
    assert deliver_due(sessions, settings, now=t0 + timedelta(seconds=180)) == 1  # attempt 3: 200
    [delivery] = deliveries(sessions)
    assert (delivery.state, delivery.attempts) == ("sent", 3)
    assert delivery.last_error == "HTTP 503"  # the last failure stays on record
    assert [r["signed"] for r in hook.requests] == [True] * 3
    assert len({r["headers"]["X-Desk-Delivery"] for r in hook.requests}) == 1  # a receiver can drop repeats
    assert deliver_due(sessions, settings, now=t0 + timedelta(hours=1)) == 0


def test_retries_run_on_the_clock(sessions, tmp_path, receiver):
    """The same with real waits: a 50 ms backoff, passes every 10 ms."""
    hook = receiver(500, 200)
    settings = webhook_settings(tmp_path, hook.url, notify_backoff_s=0.05)
    handoff(sessions)
    until(lambda: deliver_due(sessions, settings) is not None and deliveries(sessions)[0].state == "sent")
    print(f"\nretry came {(hook.requests[1]['at'] - hook.requests[0]['at']) * 1000:.0f} ms after the failure "
          "(backoff 50 ms)")
    assert deliveries(sessions)[0].attempts == 2


def test_a_receiver_that_always_fails_is_given_up_on_and_recorded(sessions, tmp_path, receiver):
    hook = receiver(500)
    settings = webhook_settings(tmp_path, hook.url, notify_backoff_s=1, notify_max_attempts=3)
    handoff(sessions)
    t0 = datetime.now(timezone.utc)
    made = sum(deliver_due(sessions, settings, now=t0 + timedelta(seconds=s)) for s in (0, 1, 3, 7, 15, 31))
    [delivery] = deliveries(sessions)
    assert made == 3 and len(hook.requests) == 3
    assert (delivery.state, delivery.attempts, delivery.last_error, delivery.sent_at) == ("failed", 3, "HTTP 500", None)


def test_errors_and_logs_carry_no_secret_or_url_credentials(sessions, tmp_path, caplog):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"http://hookuser:Pa55-word-Zq9@127.0.0.1:{port}/hook?token=tok-7Hx2Lw"
    settings = webhook_settings(tmp_path, url)
    handoff(sessions)
    with caplog.at_level(logging.DEBUG, logger="chatbot.notify"):
        assert deliver_due(sessions, settings) == 1
    [delivery] = deliveries(sessions)
    assert delivery.state == "pending" and delivery.last_error.startswith("ConnectError")
    assert delivery.target == f"http://127.0.0.1:{port}/hook"
    recorded = caplog.text + delivery.last_error + delivery.target
    assert "failed" in caplog.text
    for secret in (SECRET, "Pa55-word-Zq9", "tok-7Hx2Lw", "hookuser", SHOPPER_EMAIL):
        assert secret not in recorded


def test_each_notice_has_one_sender_among_several_processes(database_url, tmp_path, receiver):
    hook = receiver(200)
    settings = webhook_settings(tmp_path, hook.url)
    engines = [make_engine(database_url) for _ in range(4)]
    processes = [session_factory(engine) for engine in engines]
    handoff_ids = {handoff(processes[0]) for _ in range(6)}
    barrier = threading.Barrier(len(processes))

    def serve(sessions):
        barrier.wait()
        deliver_due(sessions, settings)

    threads = [threading.Thread(target=serve, args=(p,)) for p in processes]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"\n4 processes, 6 hand-offs: {(time.perf_counter() - started) * 1000:.0f} ms")
    sent = sorted(json.loads(r["body"])["handoff"]["id"] for r in hook.requests)
    assert sent == sorted(handoff_ids)  # each exactly once
    assert [(d.state, d.attempts) for d in deliveries(processes[0])] == [("sent", 1)] * 6
    for engine in engines:
        engine.dispose()


def test_a_notice_whose_sender_died_is_sent_after_a_restart(sessions, tmp_path, receiver):
    hook = receiver(200)
    settings = webhook_settings(tmp_path, hook.url, notify_backoff_s=30, notify_max_attempts=3)
    t0 = datetime.now(timezone.utc)
    died_first, died_last = handoff(sessions), handoff(sessions)
    with sessions.begin() as session:  # claimed, then the process stopped before it reported
        session.add_all([NotificationDelivery(handoff_id=died_first, channel="webhook", target=hook.url,
                                              attempts=1, created_at=t0 - timedelta(minutes=5)),
                         NotificationDelivery(handoff_id=died_last, channel="webhook", target=hook.url,
                                              attempts=3, created_at=t0 - timedelta(hours=1))])
    assert deliver_due(sessions, settings, now=t0) == 1
    first, last = deliveries(sessions)
    assert (first.state, first.attempts) == ("sent", 2)
    assert (last.state, last.last_error) == ("failed", INTERRUPTED)
    assert [json.loads(r["body"])["handoff"]["id"] for r in hook.requests] == [died_first]


def test_old_hand_offs_and_take_overs_are_not_news(sessions, tmp_path, receiver):
    hook = receiver(200)
    handoff(sessions, created_at=datetime.now(timezone.utc) - timedelta(days=2))
    handoff(sessions, reason="agent")  # an agent took the conversation over: nobody waits
    assert deliver_due(sessions, webhook_settings(tmp_path, hook.url)) == 0
    assert hook.requests == [] and deliveries(sessions) == []


@pytest.mark.parametrize("url,shown", [
    ("https://hooks.example.com/desk?token=abc", "https://hooks.example.com/desk"),
    ("http://user:pw@127.0.0.1:8080/h", "http://127.0.0.1:8080/h"),
    ("http://[::1]:9000/h?sig=x", "http://[::1]:9000/h"),
])
def test_targets_are_shown_without_credentials_or_query(url, shown):
    assert shown_url(url) == shown


def test_backoff_schedule():
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert [(next_due(t0, n, 30) - t0).total_seconds() for n in range(6)] == [0, 30, 90, 210, 450, 930]


# --- e-mail ---

@pytest.fixture
def smtp_server():
    """aiosmtpd on a free local port, with a login (allowed without TLS: it is loopback)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"desk", b"mail-pass-81Kd"),
                          handled=False)  # False: the server answers 535 itself

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


def email_settings(tmp_path, port, **overrides):
    return make_settings(tmp_path, **{"notify_email_to": "support@shop.example, lead@shop.example",
                                      "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_from": "desk@shop.example",
                                      "smtp_username": "desk", "smtp_password": "mail-pass-81Kd", **overrides})


def test_an_email_arrives_at_the_local_smtp_server(sessions, tmp_path, smtp_server):
    settings = email_settings(tmp_path, smtp_server.port, public_url="https://desk.shop.example/")
    handoff_id = handoff(sessions, reason="payment_dispute")
    started = time.perf_counter()
    assert deliver_due(sessions, settings) == 1
    print(f"\ne-mail delivered in {(time.perf_counter() - started) * 1000:.1f} ms")
    [envelope] = smtp_server.messages
    assert envelope.mail_from == "desk@shop.example"
    assert sorted(envelope.rcpt_tos) == ["lead@shop.example", "support@shop.example"]
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert "waiting for a person (payment_dispute)" in mail["Subject"]
    with sessions() as session:
        conversation_id = session.get(HandoffRequest, handoff_id).conversation_id
    text = mail.get_content()
    assert f"https://desk.shop.example/agent/conversations/{conversation_id}" in text and SHOPPER_EMAIL not in text
    [delivery] = deliveries(sessions)
    assert (delivery.channel, delivery.state, delivery.attempts) == ("email", "sent", 1)


def test_both_channels_get_their_own_notice(sessions, tmp_path, smtp_server, receiver):
    hook = receiver(200)
    settings = email_settings(tmp_path, smtp_server.port, notify_webhook_url=hook.url, notify_webhook_secret=SECRET)
    handoff(sessions)
    assert deliver_due(sessions, settings) == 2
    assert len(hook.requests) == 1 and len(smtp_server.messages) == 1
    assert sorted((d.channel, d.state) for d in deliveries(sessions)) == [("email", "sent"), ("webhook", "sent")]


@pytest.mark.parametrize("overrides,error", [
    ({"smtp_starttls": True}, "SMTPNotSupportedError"),  # never falls back to clear text
    ({"smtp_password": "wrong-pass-81Kd"}, "SMTPAuthenticationError"),
])
def test_smtp_failures_are_recorded(sessions, tmp_path, smtp_server, overrides, error, caplog):
    settings = email_settings(tmp_path, smtp_server.port, **overrides)
    handoff(sessions)
    with caplog.at_level(logging.WARNING, logger="chatbot.notify"):
        assert deliver_due(sessions, settings) == 1
    [delivery] = deliveries(sessions)
    assert delivery.state == "pending" and delivery.last_error.startswith(error)
    assert smtp_server.messages == []
    assert "mail-pass-81Kd" not in caplog.text + delivery.last_error
    assert "wrong-pass-81Kd" not in caplog.text + delivery.last_error


@pytest.fixture
def tls_smtp_server(tmp_path):
    """aiosmtpd that offers STARTTLS with a self-signed certificate for 127.0.0.1 and
    takes a login only after it."""
    import shutil
    import ssl
    import subprocess

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope, session.ssl is not None))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            authenticator=lambda *args: AuthResult(success=True, handled=False))
    controller.start()
    inbox.port, inbox.cert = port, cert
    yield inbox
    controller.stop()


def test_starttls_checks_the_certificate(sessions, tmp_path, tls_smtp_server, monkeypatch):
    settings = email_settings(tmp_path, tls_smtp_server.port, smtp_starttls=True)
    handoff(sessions), handoff(sessions)
    assert deliver_due(sessions, settings) == 2  # a certificate nobody vouches for is refused
    assert [d.last_error.split(":")[0] for d in deliveries(sessions)] == ["SSLCertVerificationError"] * 2
    assert tls_smtp_server.messages == []
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_smtp_server.cert))  # now the client trusts it
    t0 = datetime.now(timezone.utc) + timedelta(hours=1)  # the retries are due
    assert deliver_due(sessions, settings, now=t0) == 2
    assert [(d.state, d.attempts) for d in deliveries(sessions)] == [("sent", 2), ("sent", 2)]
    assert [encrypted for _, encrypted in tls_smtp_server.messages] == [True, True]


# --- settings ---

@pytest.mark.parametrize("overrides,problem", [
    ({"notify_webhook_url": "http://127.0.0.1:9/h"}, "CHATBOT_NOTIFY_WEBHOOK_SECRET is missing or too weak"),
    ({"notify_webhook_url": "http://127.0.0.1:9/h", "notify_webhook_secret": "short-secret"},
     "CHATBOT_NOTIFY_WEBHOOK_SECRET is missing or too weak"),
    ({"notify_webhook_url": "file:///etc/passwd", "notify_webhook_secret": SECRET}, "http:// or https://"),
    ({"notify_email_to": "support team"}, "CHATBOT_NOTIFY_EMAIL_TO"),
    ({"smtp_host": "smtp.example.com", "smtp_password": "mail-pass-81Kd"}, "CHATBOT_SMTP_STARTTLS=true"),
])
def test_notification_settings_are_checked(tmp_path, overrides, problem):
    with pytest.raises(SettingsError, match=problem) as refused:
        load_settings(home=tmp_path, **overrides)
    for value in overrides.values():
        if "secret" in value or "pass" in value:
            assert value not in str(refused.value)


def test_the_app_runs_the_notice_worker(api_app, receiver):
    """Through the app's lifespan: a hand-off stored while it serves is announced."""
    from fastapi.testclient import TestClient

    hook = receiver(200)
    app = api_app(notify_webhook_url=hook.url, notify_webhook_secret=SECRET, notify_poll_s=0.05)
    with TestClient(app):
        sessions = app.state.desk.sessions
        started = time.perf_counter()
        handoff(sessions)
        until(lambda: len(hook.requests) == 1)
        print(f"\nannounced {(time.perf_counter() - started) * 1000:.0f} ms after the hand-off was stored")
    assert hook.requests[0]["signed"]
