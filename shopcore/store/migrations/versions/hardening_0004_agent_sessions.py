"""console logins kept on the server

Revision ID: hardening_0004
Revises: hardening_0003

Logging out only cleared the browser's cookie, so a copied cookie kept working until it
expired, and a deleted agent's cookie still read conversations. Each login is now a row
that logout ends and that goes with its agent account.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "hardening_0004"
down_revision: Union[str, Sequence[str], None] = "hardening_0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agent_accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_agent_sessions_agent_id_agent_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_sessions")),
    )
    op.create_index(op.f("ix_agent_sessions_agent_id"), "agent_sessions", ["agent_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_agent_sessions_agent_id"), table_name="agent_sessions")
    op.drop_table("agent_sessions")
