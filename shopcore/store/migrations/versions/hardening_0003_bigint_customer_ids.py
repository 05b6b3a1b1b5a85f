"""customer ids are 64-bit

Revision ID: hardening_0003
Revises: interfaces_0002

A shop's customer ids are its own and often 64-bit; a signed-in shopper with an id above
2^31 made every PostgreSQL query on the INTEGER column fail. SQLite's INTEGER is already
64-bit, so only PostgreSQL changes.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "hardening_0003"
down_revision: Union[str, Sequence[str], None] = "interfaces_0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = [("customers", "id"), ("orders", "customer_id"), ("conversations", "customer_id"),
           ("retention_offers", "customer_id")]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in reversed(COLUMNS):
        op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger())
