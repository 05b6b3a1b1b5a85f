"""record which agent wrote an agent message

Revision ID: interfaces_0002
Revises: risk_0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "interfaces_0002"
down_revision: Union[str, Sequence[str], None] = "risk_0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add messages.agent: the agent account name on role 'agent' messages."""
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("agent", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("agent")
