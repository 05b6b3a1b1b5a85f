"""record the question each shopper message was understood as

Revision ID: conversations_0007
Revises: inbox_0006
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "conversations_0007"
down_revision: Union[str, Sequence[str], None] = "inbox_0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add messages.question: on role 'user' messages, the standalone question the desk
    searched for (documents' language, typos corrected); the next follow-up leans on it."""
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("question", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("question")
