"""Notices of new hand-offs to the shop's team: a signed webhook and an e-mail, sent
through an outbox so that several server processes and restarts neither lose nor repeat them.

The outbox is the notification_deliveries table, one row per hand-off request and channel
(unique). Every process runs `run_worker` (started in the app's lifespan when a channel is
set): each pass claims the requests that have no row for a channel by inserting it, and the
unique key lets exactly one process win each; the winner sends. A failed attempt is recorded
on the row (attempts, last_error) and retried with exponential backoff, each retry claimed
by a conditional UPDATE on the attempt count (so, again, one process per attempt); after
CHATBOT_NOTIFY_MAX_ATTEMPTS the row is `failed`. A process that dies mid-send leaves a
pending row that the next pass retries when its backoff has passed.

Verifying the webhook, on the receiving side. The desk POSTs JSON with these headers:

    X-Desk-Event: handoff.requested
    X-Desk-Delivery: 42                       the same on every retry: drop duplicates by it
    X-Desk-Signature: t=1767225600,v1=5f2c…   t: unix seconds when signed;
                                              v1: hex HMAC-SHA256 keyed with CHATBOT_NOTIFY_WEBHOOK_SECRET
                                              over the bytes  f"{t}." + raw request body

Recompute v1 over the raw body exactly as received (before any JSON parsing), compare in
constant time, and refuse a t more than five minutes from your clock, so an old request
replayed is refused:

    expected = hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, v1) and abs(time.time() - t) <= 300

(`verify_signature` below does just that.) Any 2xx answer counts as delivered; anything
else, a redirect included, is a failure and is retried. Delivery is at least once: a
receiver that took a notice but answered too late gets it again, with the same delivery id
(so does one whose attempt outlasts the wait before the next: keep CHATBOT_NOTIFY_BACKOFF_S
above CHATBOT_NOTIFY_TIMEOUT_S, as the defaults are).

Neither a notice nor a log line carries the shopper's words or e-mail address, and logs
and recorded errors never carry the webhook secret, the SMTP password or the URL's
credentials and query.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from shopcore.settings import Settings
from shopcore.store.models import HandoffRequest, NotificationDelivery, as_utc, utcnow

EVENT = "handoff.requested"
SIGNATURE_HEADER = "X-Desk-Signature"
DELIVERY_HEADER = "X-Desk-Delivery"
EVENT_HEADER = "X-Desk-Event"
SIGNATURE_TOLERANCE_S = 300
# Requests older than this that have no notice are history, not news: turning a channel on
# must not page the team about every hand-off the shop ever had.
NEW_WINDOW = timedelta(hours=24)
BATCH = 20  # notices claimed per channel and pass; the rest wait for the next pass
# An agent's own take-over (chatbot/inbox.py take_over) already has its person: nobody to alert.
TAKE_OVER_REASON = "agent"
ERROR_CHARS = 500
INTERRUPTED = "interrupted: the sending process stopped before its last attempt reported"
log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A channel did not take the notice; the message is safe to store and log."""


@dataclass(frozen=True)
class Channel:
    name: str  # "webhook" | "email"
    target: str  # where, as stored and logged: a URL without credentials or query, or addresses


@dataclass(frozen=True)
class Notice:
    """What each channel says about one new hand-off."""

    delivery_id: int
    handoff_id: int
    conversation_id: str
    reason: str
    priority: int
    state: str
    language: str | None
    created_at: datetime
    contact_email_left: bool  # the address itself stays in the console

    @property
    def console_path(self) -> str:
        return f"/agent/conversations/{self.conversation_id}"


def channels(settings: Settings) -> list[Channel]:
    """The channels the settings turn on, in the order they are served."""
    found = []
    if settings.notify_webhook_url:
        found.append(Channel("webhook", shown_url(settings.notify_webhook_url)))
    if settings.notify_email_to:
        found.append(Channel("email", settings.notify_email_to[:500]))
    return found


def shown_url(url: str) -> str:
    """A URL as it may be stored or logged: scheme, host, port and path; no user, password or query."""
    parts = urlsplit(url)
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname  # IPv6
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"[:500]


# --- Signing ---

def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The X-Desk-Signature value for body sent at timestamp (unix seconds)."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: bytes, body: bytes, header: str, *, tolerance_s: float = SIGNATURE_TOLERANCE_S,
                     now: float | None = None) -> bool:
    """Whether header is a valid X-Desk-Signature of body under secret, signed within tolerance_s."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    fresh = abs((time.time() if now is None else now) - timestamp) <= tolerance_s
    return fresh and hmac.compare_digest(expected, fields.get("v1", ""))


# --- The two channels ---

def webhook_body(notice: Notice, settings: Settings) -> bytes:
    """The JSON the webhook receives (the exact bytes that are signed)."""
    return json.dumps({
        "event": EVENT,
        "delivery_id": notice.delivery_id,
        "shop": settings.shop_name,
        "handoff": {
            "id": notice.handoff_id, "conversation_id": notice.conversation_id, "reason": notice.reason,
            "priority": notice.priority, "state": notice.state, "language": notice.language,
            "created_at": notice.created_at.isoformat(), "contact_email_left": notice.contact_email_left,
        },
        "console_path": notice.console_path,
        "console_url": console_url(notice, settings),
    }, ensure_ascii=False, separators=(",", ":")).encode()


def console_url(notice: Notice, settings: Settings) -> str | None:
    """Where an agent claims the request: CHATBOT_PUBLIC_URL and the console path (None without it)."""
    return settings.public_url.rstrip("/") + notice.console_path if settings.public_url else None


def send_webhook(notice: Notice, settings: Settings) -> None:
    """POST the signed notice; any 2xx is delivered, anything else raises DeliveryError."""
    body = webhook_body(notice, settings)
    headers = {"Content-Type": "application/json", EVENT_HEADER: EVENT, DELIVERY_HEADER: str(notice.delivery_id),
               SIGNATURE_HEADER: sign(settings.notify_webhook_secret.get_secret_value().encode(), body,
                                      int(time.time())),
               "User-Agent": "shopdesk-notify/1"}
    try:
        # No redirects: a signed notice goes where it was configured to go, nowhere else.
        response = httpx.post(settings.notify_webhook_url, content=body, headers=headers,
                              timeout=settings.notify_timeout_s, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"HTTP {response.status_code}")


def email_message(notice: Notice, settings: Settings) -> EmailMessage:
    """The hand-off e-mail: what happened, how urgent, where to answer."""
    message = EmailMessage()
    message["Subject"] = f"[{settings.shop_name}] A shopper is waiting for a person ({notice.reason})"
    message["From"] = settings.smtp_from
    message["To"] = settings.notify_email_to
    message["Message-ID"] = make_msgid("handoff")
    message.set_content(
        f"A shopper asked for a person at {notice.created_at:%Y-%m-%d %H:%M} UTC.\n\n"
        f"Reason:        {notice.reason}\n"
        f"Priority:      {notice.priority}\n"
        f"Language:      {notice.language or 'unknown'}\n"
        f"Left an e-mail address: {'yes' if notice.contact_email_left else 'no'}\n"
        f"Conversation:  {notice.conversation_id}\n\n"
        f"Claim it in the agent console: {console_url(notice, settings) or notice.console_path}\n"
    )
    return message


def send_email(notice: Notice, settings: Settings) -> None:
    """Send the hand-off e-mail over SMTP (STARTTLS and login if set); raises DeliveryError."""
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.notify_timeout_s) as smtp:
            if settings.smtp_starttls:  # raises when not offered: never fall back to clear text
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(email_message(notice, settings))
    except (OSError, smtplib.SMTPException) as exc:  # smtplib's errors, refused connections, timeouts
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None


SENDERS = {"webhook": send_webhook, "email": send_email}


# --- The outbox ---

def next_due(created_at: datetime, attempts: int, backoff_s: float) -> datetime:
    """When attempt number attempts + 1 is due: the first at once, then after backoff_s, 3x,
    7x, 15x … counted from the row's creation (waits of backoff_s, doubling)."""
    return as_utc(created_at) + timedelta(seconds=backoff_s * (2 ** attempts - 1))


def deliver_due(sessions: sessionmaker[Session], settings: Settings, now: datetime | None = None) -> int:
    """One pass over every channel: claim and send new notices, then the retries that are
    due. Returns the attempts made."""
    made = 0
    for channel in channels(settings):
        for delivery_id in _claim_new(sessions, channel, now or utcnow()):
            made += _attempt(sessions, settings, delivery_id)
        for delivery_id in _claim_retries(sessions, settings, channel, now or utcnow()):
            made += _attempt(sessions, settings, delivery_id)
    return made


def _claim_new(sessions, channel: Channel, now: datetime) -> list[int]:
    """Insert a delivery row (its first attempt) for each recent request that has none on
    channel; the unique (handoff_id, channel) makes a row another process inserted first
    fail here, so each notice has one owner. Returns the rows this process owns."""
    noticed = select(NotificationDelivery.handoff_id).where(NotificationDelivery.channel == channel.name)
    with sessions() as session:
        handoff_ids = session.scalars(
            select(HandoffRequest.id).where(HandoffRequest.created_at >= now - NEW_WINDOW,
                                            HandoffRequest.reason != TAKE_OVER_REASON,
                                            HandoffRequest.id.not_in(noticed))
            .order_by(HandoffRequest.id).limit(BATCH)).all()
    owned = []
    for handoff_id in handoff_ids:
        try:
            with sessions.begin() as session:
                delivery = NotificationDelivery(handoff_id=handoff_id, channel=channel.name,
                                                target=channel.target, state="pending", attempts=1,
                                                created_at=now)
                session.add(delivery)
                session.flush()
                owned.append(delivery.id)
        except IntegrityError:
            continue  # another process claimed it (or the conversation was just deleted)
    return owned


def _claim_retries(sessions, settings: Settings, channel: Channel, now: datetime) -> list[int]:
    """Take the next attempt of each pending row whose backoff has passed, one process per
    attempt (UPDATE … WHERE attempts = what we read). A row whose last attempt never
    reported (its process died) and whose backoff passed is closed as failed."""
    with sessions() as session:
        pending = session.execute(
            select(NotificationDelivery.id, NotificationDelivery.attempts, NotificationDelivery.created_at)
            .where(NotificationDelivery.channel == channel.name, NotificationDelivery.state == "pending")
            .order_by(NotificationDelivery.id)).all()
    owned = []
    for delivery_id, attempts, created_at in pending:
        if next_due(created_at, attempts, settings.notify_backoff_s) > now or len(owned) >= BATCH:
            continue
        claim = (update(NotificationDelivery)
                 .where(NotificationDelivery.id == delivery_id, NotificationDelivery.attempts == attempts,
                        NotificationDelivery.state == "pending"))
        with sessions.begin() as session:
            if attempts >= settings.notify_max_attempts:
                session.execute(claim.values(state="failed", last_error=INTERRUPTED))
                continue
            if session.execute(claim.values(attempts=attempts + 1)).rowcount == 1:
                owned.append(delivery_id)
    return owned


def _attempt(sessions, settings: Settings, delivery_id: int) -> int:
    """Send the notice of one claimed delivery row and record how it went."""
    with sessions() as session:
        row = session.execute(
            select(NotificationDelivery, HandoffRequest)
            .join(HandoffRequest, HandoffRequest.id == NotificationDelivery.handoff_id)
            .where(NotificationDelivery.id == delivery_id)).first()
        if row is None:  # the conversation (and so the request and this row) was deleted
            return 0
        delivery, handoff = row
        notice = Notice(delivery.id, handoff.id, handoff.conversation_id, handoff.reason, handoff.priority,
                        handoff.state, handoff.language, as_utc(handoff.created_at), bool(handoff.contact_email))
        channel, attempts = delivery.channel, delivery.attempts
    started = time.perf_counter()
    try:
        SENDERS[channel](notice, settings)
    except DeliveryError as exc:
        error = scrub(str(exc), settings)[:ERROR_CHARS]
        gave_up = attempts >= settings.notify_max_attempts
        with sessions.begin() as session:
            session.execute(update(NotificationDelivery).where(NotificationDelivery.id == delivery_id)
                            .values(last_error=error, state="failed" if gave_up else "pending"))
        log.warning("hand-off %d %s notice failed (attempt %d of %d%s): %s", notice.handoff_id, channel,
                    attempts, settings.notify_max_attempts, ", giving up" if gave_up else "", error)
        return 1
    with sessions.begin() as session:
        session.execute(update(NotificationDelivery).where(NotificationDelivery.id == delivery_id)
                        .values(state="sent", sent_at=utcnow()))
    log.info("hand-off %d %s notice sent (attempt %d, %.0f ms)", notice.handoff_id, channel, attempts,
             (time.perf_counter() - started) * 1000)
    return 1


def scrub(text: str, settings: Settings) -> str:
    """text without the secrets an error message could quote: the webhook secret, the SMTP
    password, and the webhook URL's credentials and query."""
    url = settings.notify_webhook_url
    hidden = [settings.notify_webhook_secret.get_secret_value(), settings.smtp_password.get_secret_value()]
    if url:
        parts = urlsplit(url)
        hidden += [url, parts.query, parts.password or "", parts.username or ""]
    for secret in sorted(filter(None, hidden), key=len, reverse=True):
        text = text.replace(secret, shown_url(url) if secret == url else "(hidden)")
    return text


async def run_worker(sessions: sessionmaker[Session], settings: Settings) -> None:
    """Deliver notices every CHATBOT_NOTIFY_POLL_S while the app serves (a task of its lifespan)."""
    log.info("hand-off notices: %s", ", ".join(f"{c.name} to {c.target}" for c in channels(settings)))
    while True:
        try:
            await asyncio.to_thread(deliver_due, sessions, settings)
        except SQLAlchemyError as exc:  # the store is down: the outbox waits, nothing is lost
            log.error("hand-off notices: database error %s; trying again", type(exc).__name__)
        except Exception:
            log.exception("hand-off notices: unexpected error; trying again")
        await asyncio.sleep(settings.notify_poll_s)


def start_worker(sessions: sessionmaker[Session], settings: Settings) -> asyncio.Task | None:
    """The notice worker as a task of the running loop, or None when no channel is set."""
    return asyncio.create_task(run_worker(sessions, settings)) if channels(settings) else None
