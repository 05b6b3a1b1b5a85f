"""the inbox: hand-off requests, the conversation timeline, saved replies, ratings, notifications

Revision ID: inbox_0006
Revises: hardening_0005

A hand-off used to be words in the answer ("let me get a person") and nothing else. It is
now a request with a state (waiting, assigned, resolved, returned), one open per
conversation (a partial unique index, on SQLite and PostgreSQL alike); every change is a
conversation event, whose ids the live console and the widget poll.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "inbox_0006"
down_revision: Union[str, Sequence[str], None] = "hardening_0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = "state IN ('waiting', 'assigned')"


def upgrade() -> None:
    op.create_table(
        "handoff_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("agent", sa.String(length=100), nullable=True),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('waiting', 'assigned', 'resolved', 'returned')",
                           name=op.f("ck_handoff_requests_state")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                name=op.f("fk_handoff_requests_conversation_id_conversations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_requests")),
    )
    op.create_index(op.f("ix_handoff_requests_conversation_id"), "handoff_requests", ["conversation_id"])
    op.create_index(op.f("ix_handoff_requests_created_at"), "handoff_requests", ["created_at"])
    op.create_index("ix_handoff_requests_queue", "handoff_requests", ["state", "priority", "created_at"])
    op.create_index("uq_handoff_requests_open", "handoff_requests", ["conversation_id"], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))

    op.create_table(
        "conversation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                name=op.f("fk_conversation_events_conversation_id_conversations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_events")),
    )
    op.create_index("ix_conversation_events_conversation", "conversation_events", ["conversation_id", "id"])
    op.create_index(op.f("ix_conversation_events_at"), "conversation_events", ["at"])
    op.create_index(op.f("ix_conversation_events_kind"), "conversation_events", ["kind"])

    op.create_table(
        "saved_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_replies")),
    )

    op.create_table(
        "conversation_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_conversation_ratings_score")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                name=op.f("fk_conversation_ratings_conversation_id_conversations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_ratings")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_conversation_ratings_conversation_id")),
    )
    op.create_index(op.f("ix_conversation_ratings_created_at"), "conversation_ratings", ["created_at"])

    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('webhook', 'email')", name=op.f("ck_notification_deliveries_channel")),
        sa.CheckConstraint("state IN ('pending', 'sent', 'failed')", name=op.f("ck_notification_deliveries_state")),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoff_requests.id"], ondelete="CASCADE",
                                name=op.f("fk_notification_deliveries_handoff_id_handoff_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint("handoff_id", "channel", name="uq_notification_deliveries_handoff_channel"),
    )
    op.create_index(op.f("ix_notification_deliveries_state"), "notification_deliveries", ["state"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notification_deliveries_state"), table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_index(op.f("ix_conversation_ratings_created_at"), table_name="conversation_ratings")
    op.drop_table("conversation_ratings")
    op.drop_table("saved_replies")
    op.drop_index(op.f("ix_conversation_events_kind"), table_name="conversation_events")
    op.drop_index(op.f("ix_conversation_events_at"), table_name="conversation_events")
    op.drop_index("ix_conversation_events_conversation", table_name="conversation_events")
    op.drop_table("conversation_events")
    op.drop_index("uq_handoff_requests_open", table_name="handoff_requests")
    op.drop_index("ix_handoff_requests_queue", table_name="handoff_requests")
    op.drop_index(op.f("ix_handoff_requests_created_at"), table_name="handoff_requests")
    op.drop_index(op.f("ix_handoff_requests_conversation_id"), table_name="handoff_requests")
    op.drop_table("handoff_requests")
