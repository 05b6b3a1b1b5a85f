"""Scheduled import from the shop's own SQL database: the profile's `sync` section.

    python -m knowledge sync-shop          # once, from CHATBOT_SHOP's profile

    sync:
      url: postgresql://desk_reader@db.internal/shop   # any SQLAlchemy URL; a read-only user is best
      every_minutes: 15                                # the served desk syncs this often
      products: SELECT sku, title AS name, price FROM catalog_product
      variants: SELECT sku, size, colour, quantity AS stock FROM catalog_stock

Each query returns the columns of the CSV format of its kind (docs/shop-data.md); a kind without
a query is skipped. The rows go through the same checks and upserts as `load-shop`, so a sync
writes only what changed and a bad row leaves the desk's store as it was. The queries run in one
read-only transaction that is rolled back. The served desk runs `ShopSync` in a thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from knowledge.shop_data import ShopImport, import_batch
from knowledge.shop_rows import KINDS, Batch, ShopDataError
from shopcore.periodic import Periodic
from shopcore.profile import Sync

log = logging.getLogger(__name__)


def safe_url(url: str) -> str:
    """The URL as it may be shown: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: show nothing of it
        return "(an unreadable database URL)"


def read_source(sync: Sync) -> Batch:
    """Run each of the profile's queries, read-only; their rows, per kind, as an import batch."""
    url = sync.url
    if url.startswith("postgresql://"):  # the driver the desk ships (psycopg 3)
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = create_engine(url, poolclass=NullPool)
    except Exception as exc:  # a bad URL or a driver that is not installed
        raise ShopDataError(f"sync: cannot use the database {safe_url(sync.url)}: {exc}") from None
    batch = Batch()
    try:
        with engine.connect() as connection:
            _read_only(connection)
            for kind in KINDS:
                query = getattr(sync, kind)
                if not query:
                    batch.skipped[kind] = "no query in the profile's sync"
                    continue
                result = connection.execute(text(query))
                columns = list(result.keys())
                records = [(number, list(row)) for number, row in enumerate(result, 1)]
                batch.add_table(kind, f"{kind} query", columns, records, header=f"{kind} query")
            connection.rollback()  # read-only: nothing to keep
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ShopDataError(f"sync from {safe_url(sync.url)} failed: {detail}") from None
    finally:
        engine.dispose()
    return batch


def _read_only(connection) -> None:
    # The transaction refuses writes where the database can say so; on others it is only rolled back.
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SET TRANSACTION READ ONLY"))
    elif dialect == "sqlite":
        connection.exec_driver_sql("PRAGMA query_only = ON")


def sync_shop(sessions: sessionmaker[Session], sync: Sync, progress: bool = True) -> ShopImport:
    """Import the shop database's current rows into the desk's store; what changed per kind."""
    return import_batch(sessions, read_source(sync), progress)


class ShopSync(Periodic):
    """A daemon thread that syncs now and then every `sync.every_minutes`, logging what it did.
    close() lets a sync under way finish its transaction first (waited for up to 10 s)."""

    thread_name = "shop-sync"

    def __init__(self, sessions: sessionmaker[Session], sync: Sync,
                 on_catalog_change: Callable[[], None] | None = None):
        # on_catalog_change: called after a sync that changed products or stock, which the
        # index's product documents show (the served desk re-indexes them).
        super().__init__(sync.every_minutes * 60, first_now=True)
        self.sessions, self.sync, self.on_catalog_change = sessions, sync, on_catalog_change

    def step(self) -> None:
        self.run_once()

    def run_once(self) -> ShopImport | None:
        """One sync; a failure is logged (never the password) and the next one tries again."""
        try:
            report = sync_shop(self.sessions, self.sync, progress=False)
        except ShopDataError as exc:
            log.error("shop sync: nothing imported: %s", exc)
            return None
        except Exception:  # the desk's store unreachable, say: the next round tries again
            log.exception("shop sync from %s failed", safe_url(self.sync.url))
            return None
        log.info("shop sync from %s: %s", safe_url(self.sync.url), "; ".join(report.lines()))
        catalog = [report.counts[kind] for kind in ("products", "variants") if kind in report.counts]
        if self.on_catalog_change is not None and any(c.added or c.updated for c in catalog):
            try:
                self.on_catalog_change()
            except Exception:  # the old index keeps serving; the next sync tries again
                log.exception("shop sync: re-indexing the changed catalog failed")
        return report

