"""The SQL schema: shop data (customers, products, orders) and desk data (conversations,
messages, risk, offers, annotations, agents). Identical on SQLite and PostgreSQL.

Change a model, then add a migration: `python -m chatbot makemigration "what changed"`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as text_clause
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ORDER_STATUSES = ("processing", "shipped", "delivered", "delayed", "returned", "refunded", "cancelled")
MESSAGE_ROLES = ("user", "assistant", "agent")
# pending: stored before generation; ok: answered; error/cancelled: generation did not finish.
MESSAGE_STATES = ("pending", "ok", "error", "cancelled")
CONVERSATION_STATES = ("bot", "agent", "closed")
RISK_LEVELS = ("low", "medium", "high")
OFFER_STATES = ("offered", "accepted", "declined", "expired", "redeemed")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands back naive ones, all UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def new_public_id() -> str:
    # Conversation ids are handed to browsers, so they must not be guessable or sequential.
    return uuid.uuid4().hex


# Customer ids are the shop's own, often 64-bit: BIGINT on PostgreSQL. SQLite's INTEGER is
# already 64-bit (and a primary key must be spelled INTEGER there to be the row id).
CustomerId = BigInteger().with_variant(Integer(), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    # Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[Any]: JSON,
        Decimal: Numeric(12, 2),
    }


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(CustomerId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    loyalty_tier: Mapped[str] = mapped_column(String(40), default="")
    loyalty_points: Mapped[int] = mapped_column(default=0)

    orders: Mapped[list[Order]] = relationship(back_populates="customer", order_by="Order.placed_at")


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100), index=True)
    price: Mapped[Decimal]
    description: Mapped[str] = mapped_column(Text, default="")
    materials: Mapped[str] = mapped_column(Text, default="")
    care: Mapped[str] = mapped_column(Text, default="")
    specs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    variants: Mapped[list[ProductVariant]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductVariant.id"
    )


class ProductVariant(Base):
    __tablename__ = "product_variants"
    __table_args__ = (UniqueConstraint("product_id", "size", "colour", name="uq_variant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    size: Mapped[str] = mapped_column(String(40))
    colour: Mapped[str] = mapped_column(String(60))
    stock: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="variants")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (CheckConstraint(_in("status", ORDER_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(CustomerId, ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    placed_at: Mapped[datetime]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    estimated_delivery: Mapped[date | None] = mapped_column(Date)
    shipping_method: Mapped[str] = mapped_column(String(60), default="")
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    shipping_cost: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    discount: Mapped[Decimal] = mapped_column(default=Decimal("0"))  # loyalty rewards etc.
    total: Mapped[Decimal]  # items + shipping - discount
    status_note: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[str] = mapped_column(String(40), default="")
    colour: Mapped[str] = mapped_column(String(60), default="")
    quantity: Mapped[int] = mapped_column(default=1)
    unit_price: Mapped[Decimal]

    order: Mapped[Order] = relationship(back_populates="items")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(_in("state", CONVERSATION_STATES), name="state"),
        CheckConstraint(_in("risk_level", RISK_LEVELS), name="risk_level"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    customer_id: Mapped[int | None] = mapped_column(CustomerId, ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20), default="api")
    # bot: the assistant answers; agent: a person took over and the bot stays quiet.
    state: Mapped[str] = mapped_column(String(10), default="bot")
    # The latest conversation-level risk, kept here so the console can filter without a join.
    risk_score: Mapped[float] = mapped_column(Float, default=0.0)
    risk_level: Mapped[str] = mapped_column(String(10), default="low", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id", cascade="all, delete-orphan"
    )


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(_in("role", MESSAGE_ROLES), name="role"),
        CheckConstraint(_in("state", MESSAGE_STATES), name="state"),
        Index("ix_messages_conversation", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10), default="ok")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Assistant turns only: what produced them and how fast.
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    sources: Mapped[list[Any]] = mapped_column(default=list)
    model_id: Mapped[str | None] = mapped_column(String(200))
    adapter_version: Mapped[str | None] = mapped_column(String(200))
    ttft_ms: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    prompt_tokens: Mapped[int | None]
    tokens_generated: Mapped[int | None]
    # What the guardrails did to this answer (hand-off, regenerated, fallback), if anything.
    guardrail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Agent turns only: the person (agent account name) who wrote it.
    agent: Mapped[str | None] = mapped_column(String(100))
    # Shopper turns only: the standalone question it was understood as, in the documents'
    # language with its typos corrected ("¿Y cuánto pesa?" after the Aspen 3P: "How much
    # does the Aspen 3P Backpacking Tent weigh?"); the next follow-up leans on it.
    question: Mapped[str | None] = mapped_column(Text)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class RiskScore(Base):
    __tablename__ = "risk_scores"
    __table_args__ = (
        CheckConstraint(_in("level", RISK_LEVELS), name="level"),
        CheckConstraint(_in("conversation_level", RISK_LEVELS), name="conversation_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(10))
    conversation_score: Mapped[float] = mapped_column(Float)
    conversation_level: Mapped[str] = mapped_column(String(10))
    reasons: Mapped[list[Any]] = mapped_column(default=list)  # the conversation's, so far
    message_reasons: Mapped[list[Any]] = mapped_column(default=list)  # this message's own
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetentionOffer(Base):
    __tablename__ = "retention_offers"
    __table_args__ = (CheckConstraint(_in("state", OFFER_STATES), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The uniqueness rule: one offer per trigger. The offer policy decides what a trigger is
    # (by default the conversation itself, so at most one offer per conversation); two racing
    # requests for the same trigger hit this constraint instead of both inserting.
    trigger_key: Mapped[str] = mapped_column(String(200), unique=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(CustomerId, ForeignKey("customers.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    rule: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    value: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    unit: Mapped[str] = mapped_column(String(20), default="")
    # What the offer is expected to cost the shop, counted against the monthly budget.
    cost: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    terms: Mapped[str] = mapped_column(Text, default="")
    # The risk reasons the policy rule matched, so an agent can see why it was made.
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(String(10), default="offered", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Set by the shop's checkout when the code is used: the order it was used on.
    redeemed_at: Mapped[datetime | None]
    redeemed_order: Mapped[str | None] = mapped_column(String(64))


class AgentAnnotation(Base):
    __tablename__ = "agent_annotations"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    agent: Mapped[str] = mapped_column(String(100))
    # correction: corrected_text replaces the bot's answer in the next fine-tuning set.
    kind: Mapped[str] = mapped_column(String(20), default="correction")
    corrected_text: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentAccount(Base):
    __tablename__ = "agent_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentSession(Base):
    """A console login, kept on the server so logging out (or deleting the agent) ends it:
    a copied cookie is worth nothing after that. The cookie holds a random secret; only its
    SHA-256 is stored."""

    __tablename__ = "agent_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's secret
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent_accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Who did what to shoppers' data: an agent's take-over, reply, correction, hand-back,
    export, login and logout; the shop backend's export and deletion of a customer's data;
    the retention sweep. Append-only; its references are plain values, so deleting the
    data they point at leaves the record of having done it."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))  # "agent:alice", "backend", "retention"
    action: Mapped[str] = mapped_column(String(40), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(32))
    message_id: Mapped[int | None]
    customer_id: Mapped[int | None] = mapped_column(CustomerId)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


# --- The inbox: hand-off requests, the conversation timeline, saved replies, ratings ---

# waiting: a person was asked for; assigned: an agent claimed it; resolved: the agent closed
# it; returned: handed back to the bot. waiting and assigned are "open".
HANDOFF_STATES = ("waiting", "assigned", "resolved", "returned")
HANDOFF_OPEN_STATES = ("waiting", "assigned")
NOTIFICATION_CHANNELS = ("webhook", "email")
NOTIFICATION_STATES = ("pending", "sent", "failed")


class HandoffRequest(Base):
    """A shopper waiting for a person. One open request (waiting or assigned) per
    conversation, kept by a partial unique index rather than a check-then-insert; an agent
    claims one with a conditional UPDATE ... WHERE state = 'waiting', so two claims at once
    have exactly one winner."""

    __tablename__ = "handoff_requests"
    __table_args__ = (
        CheckConstraint(_in("state", HANDOFF_STATES), name="state"),
        Index("uq_handoff_requests_open", "conversation_id", unique=True,
              sqlite_where=text_clause(_in("state", HANDOFF_OPEN_STATES)),
              postgresql_where=text_clause(_in("state", HANDOFF_OPEN_STATES))),
        Index("ix_handoff_requests_queue", "state", "priority", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    # answer (the answer's rules), offer (the offer policy), shopper (asked for a person),
    # or an agent's own take-over.
    reason: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(default=0)  # higher is served first
    state: Mapped[str] = mapped_column(String(10), default="waiting")
    agent: Mapped[str | None] = mapped_column(String(100))
    # Left by the shopper outside business hours; personal data, masked in logs.
    contact_email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    assigned_at: Mapped[datetime | None]
    first_reply_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]  # resolved or returned to the bot


class ConversationEvent(Base):
    """The conversation's timeline (hand-off requested, claimed, agent reply, note,
    resolved, returned to the bot, rated, shopper message, bot reply), append-only. Its
    ids are the cursor the live console and the widget poll, so several server processes
    see the same feed."""

    __tablename__ = "conversation_events"
    __table_args__ = (Index("ix_conversation_events_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(120))  # "shopper", "bot", "agent:alice"
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SavedReply(Base):
    __tablename__ = "saved_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationRating(Base):
    """The shopper's rating of a resolved conversation: once per conversation (unique)."""

    __tablename__ = "conversation_ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    # Who resolved what was rated: "agent" if a person answered, else "bot".
    resolved_by: Mapped[str] = mapped_column(String(10), default="bot")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class NotificationDelivery(Base):
    """One notification of a new hand-off on one channel: at most one per (request, channel)."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("handoff_id", "channel", name="uq_notification_deliveries_handoff_channel"),
        CheckConstraint(_in("channel", NOTIFICATION_CHANNELS), name="channel"),
        CheckConstraint(_in("state", NOTIFICATION_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoff_requests.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
