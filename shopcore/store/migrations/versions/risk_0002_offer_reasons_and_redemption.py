"""risk: each message's own risk reasons; an offer's reasons and its redemption

Revision ID: risk_0002
Revises: 0001
Create Date: 2026-11-24 00:54:22.274595

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "risk_0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Rows written before this migration get an empty list, so the columns can be NOT NULL.
EMPTY_LIST = sa.text("'[]'")


def upgrade() -> None:
    with op.batch_alter_table("retention_offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reasons", sa.JSON(), nullable=False, server_default=EMPTY_LIST))
        batch_op.add_column(sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("redeemed_order", sa.String(length=64), nullable=True))

    with op.batch_alter_table("risk_scores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("message_reasons", sa.JSON(), nullable=False, server_default=EMPTY_LIST)
        )


def downgrade() -> None:
    with op.batch_alter_table("risk_scores", schema=None) as batch_op:
        batch_op.drop_column("message_reasons")

    with op.batch_alter_table("retention_offers", schema=None) as batch_op:
        batch_op.drop_column("redeemed_order")
        batch_op.drop_column("redeemed_at")
        batch_op.drop_column("reasons")
