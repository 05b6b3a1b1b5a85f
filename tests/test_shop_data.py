"""Shop data import (knowledge/shop_data.py) and the SQL sync (knowledge/shop_sync.py) against real
SQLite and PostgreSQL stores: formats, per-row errors, idempotent upserts, the scheduled sync."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, select, text

from knowledge.shop_data import ShopDataError, load_shop
from knowledge.shop_sync import ShopSync, safe_url, sync_shop
from shopcore.profile import Sync
from shopcore.settings import REPO_ROOT
from shopcore.store.models import Customer, Order, Product, ProductVariant, as_utc

from tests.conftest import POSTGRES_URL

SHOP = {
    "products.csv": """sku,name,category,price,description,materials,care,specs
P1,Trail Tent,Tents,249.00,A two-person tent.,Nylon,Air dry,"{""Weight"": ""2.1 kg""}"
P2,Camp Mug,Kitchen,12.5,,,,
""",
    "variants.csv": """sku,size,colour,stock
P1,,Green,4
P2,,Blue,10
P2,,Red,0
""",
    "customers.csv": """id,name,email,country,region,created_at,loyalty_tier,loyalty_points
1,Ada Lovelace,ada@example.com,gb,London,2025-01-17,,0
2,Grace Hopper,grace@example.com,US,,,Gold,120
""",
    "orders.csv": """number,customer_id,status,placed_at,shipped_at,delivered_at,estimated_delivery,shipping_method,\
carrier,tracking_number,shipping_cost,discount,total,status_note
B100,1,Shipped,2025-03-01T10:00:00,2025-03-02T09:00:00+01:00,,2025-03-06,Standard,UPS,1Z999,4.95,0,266.45,
B101,2,processing,2025-03-03 12:00,,,,,,,0,0,25.00,
""",
    "order_items.csv": """number,sku,name,size,colour,quantity,unit_price
B100,P1,,,Green,1,249.00
B100,P2,Camp Mug,,Blue,1,12.50
B101,P2,,,Red,2,12.50
""",
}
TABLES = ("products", "product_variants", "customers", "orders", "order_items")


@pytest.fixture
def sqlite_sessions(tmp_path):
    """A migrated SQLite store, for tests where the engine does not matter (the rest run on both)."""
    from shopcore.store.db import make_engine, migrate, session_factory

    url = f"sqlite:///{tmp_path / 'store.db'}"
    migrate(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


def write_shop(folder: Path, files: dict[str, str | bytes] = SHOP) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def snapshot(sessions) -> dict[str, list[tuple]]:
    """Every shop table's rows, in id order: equal snapshots mean no row changed."""
    with sessions() as session:
        return {t: [tuple(r) for r in session.execute(text(f"SELECT * FROM {t} ORDER BY id"))] for t in TABLES}


class Writes:
    """Counts the INSERT/UPDATE/DELETE statements an engine runs."""

    def __init__(self, engine):
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_args):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.statements.append(statement)


def counts(report) -> dict[str, tuple[int, int, int]]:
    return {kind: (c.added, c.updated, c.unchanged) for kind, c in report.counts.items()}


def test_demo_json_loads_and_a_second_run_changes_no_row(sessions):
    store = REPO_ROOT / "knowledge" / "demo" / "store"
    first = load_shop(sessions, store)
    assert first["products"] >= 150 and first["customers"] >= 100 and first["orders"] >= 300
    assert all(c.added == c.total for c in first.counts.values())
    before = snapshot(sessions)
    writes = Writes(sessions.kw["bind"])
    again = load_shop(sessions, store)
    assert writes.statements == []
    assert snapshot(sessions) == before
    assert {kind: (c.added, c.updated) for kind, c in again.counts.items()} == {k: (0, 0) for k in again.counts}
    assert dict(again) == dict(first)


def test_csv_shop_is_imported_field_by_field(sessions, tmp_path):
    report = load_shop(sessions, write_shop(tmp_path / "shop"))
    assert counts(report) == {"products": (2, 0, 0), "variants": (3, 0, 0), "customers": (2, 0, 0),
                              "orders": (2, 0, 0)}
    assert report.skipped == {}
    with sessions() as session:
        tent = session.scalar(select(Product).where(Product.sku == "P1"))
        assert (tent.price, tent.specs, tent.category) == (Decimal("249.00"), {"Weight": "2.1 kg"}, "Tents")
        assert [(v.colour, v.stock) for v in tent.variants] == [("Green", 4)]
        ada = session.get(Customer, 1)
        assert (ada.country, ada.region) == ("GB", "London")
        assert as_utc(ada.created_at) == datetime(2025, 1, 17, tzinfo=timezone.utc)
        shipped = session.scalar(select(Order).where(Order.number == "B100"))
        assert shipped.status == "shipped" and shipped.carrier == "UPS" and shipped.tracking_number == "1Z999"
        assert as_utc(shipped.shipped_at) == datetime(2025, 3, 2, 8, tzinfo=timezone.utc)  # 09:00+01:00
        assert [(i.sku, i.name, i.quantity) for i in shipped.items] == [("P1", "Trail Tent", 1), ("P2", "Camp Mug", 1)]
        waiting = session.scalar(select(Order).where(Order.number == "B101"))
        assert (waiting.carrier, waiting.shipped_at, waiting.total) == (None, None, Decimal("25.00"))
        assert [(i.name, i.quantity, i.product_id) for i in waiting.items] == [("Camp Mug", 2, tent.id + 1)]


def test_a_changed_row_is_updated_and_nothing_else(sessions, tmp_path):
    folder = write_shop(tmp_path / "shop")
    load_shop(sessions, folder)
    before = snapshot(sessions)
    (folder / "variants.csv").write_text(SHOP["variants.csv"].replace("P2,,Red,0", "P2,,Red,7"))
    (folder / "orders.csv").write_text(SHOP["orders.csv"].replace("B101,2,processing", "B101,2,cancelled"))
    (folder / "order_items.csv").write_text(SHOP["order_items.csv"].replace("B100,P2,Camp Mug,,Blue,1", "B100,P2,Camp Mug,,Blue,3"))
    report = load_shop(sessions, folder)
    assert counts(report) == {"products": (0, 0, 2), "variants": (0, 1, 2), "customers": (0, 0, 2),
                              "orders": (0, 2, 0)}
    after = snapshot(sessions)
    assert after["products"] == before["products"] and after["customers"] == before["customers"]
    with sessions() as session:
        assert session.scalar(select(ProductVariant.stock).where(ProductVariant.colour == "Red")) == 7
    again = load_shop(sessions, folder)
    assert counts(again) == {"products": (0, 0, 2), "variants": (0, 0, 3), "customers": (0, 0, 2),
                             "orders": (0, 0, 2)}
    assert snapshot(sessions) == after


def test_kinds_without_a_file_are_skipped_and_said_so(sqlite_sessions, tmp_path):
    folder = write_shop(tmp_path / "shop", {"products.json": json.dumps(
        [{"sku": "J1", "name": "Stove", "price": 59.9, "variants": [{"size": "", "colour": "Steel", "stock": 3}]}])})
    report = load_shop(sqlite_sessions, folder)
    assert counts(report) == {"products": (1, 0, 0), "variants": (1, 0, 0)}
    assert set(report.skipped) == {"customers", "orders", "order_items"}
    assert "customers: skipped (no customers.csv or customers.json)" in report.lines()


def test_formats_mix_per_kind_and_semicolons_are_read(sqlite_sessions, tmp_path):
    files = dict(SHOP)
    files["products.csv"] = SHOP["products.csv"].replace(",", ";").replace('""Weight"";', '""Weight"":')
    del files["customers.csv"]
    files["customers.json"] = json.dumps([{"id": 1, "name": "Ada", "email": "ada@example.com"},
                                          {"id": 2, "name": "Grace", "email": "grace@example.com"}])
    report = load_shop(sqlite_sessions, write_shop(tmp_path / "shop", files))
    assert report.sources["customers"] == "customers.json" and report.counts["customers"].added == 2
    with sqlite_sessions() as session:
        assert session.scalar(select(Product.specs).where(Product.sku == "P1")) == {"Weight": "2.1 kg"}


def _edit(name: str, old: str, new: str):
    return name, SHOP[name].replace(old, new)


@pytest.mark.parametrize("name,content,problem", [
    (*_edit("products.csv", "12.5", "-1"), "products.csv:3: price: Input should be greater than or equal to 0"),
    (*_edit("variants.csv", "P1,,Green,4", "P1,,Green,-4"), "variants.csv:2: stock: Input should be greater"),
    (*_edit("variants.csv", "P1,,Green,4", "P9,,Green,4"), "variants.csv:2: sku: unknown product 'P9'"),
    (*_edit("order_items.csv", "B101,P2", "B101,NOPE"), "order_items.csv:4: sku: unknown product 'NOPE' (not in products.csv"),
    (*_edit("order_items.csv", "B101,P2", "B999,P2"), "order_items.csv:4: number: order 'B999' is not in orders.csv"),
    (*_edit("orders.csv", "B101,2,", "B101,99,"), "orders.csv:3: customer_id: unknown customer 99"),
    (*_edit("orders.csv", "2025-03-03 12:00", "03/03/2025"), "orders.csv:3: placed_at: Input should be a valid datetime"),
    (*_edit("orders.csv", "2025-03-06", "2025-02-30"), "orders.csv:2: estimated_delivery: Input should be a valid date"),
    (*_edit("orders.csv", "processing", "teleported"), "orders.csv:3: status: Input should be 'processing'"),
    (*_edit("products.csv", "P2,Camp Mug", "P1,Camp Mug"), "products.csv:3: sku: 'P1' is also on products.csv:2"),
    (*_edit("customers.csv", "grace@example.com", "ada@example.com"), "customers.csv:3: email: 'ada@example.com' is also"),
    (*_edit("customers.csv", "2,Grace", "two,Grace"), "customers.csv:3: id: Input should be a valid integer"),
    (*_edit("products.csv", "Trail Tent,", ","), "products.csv:2: name: required"),
    (*_edit("products.csv", "specs", "spec"), "products.csv:1: spec: unknown column"),
    (*_edit("products.csv", ",price,", ",cost,"), "products.csv:1: price: required column is missing"),
    (*_edit("variants.csv", "P2,,Blue,10", "P2,,Blue,10,extra"), "variants.csv:3: (row): has 5 values, the header has 4"),
    (*_edit("products.csv", '"{""Weight"": ""2.1 kg""}"', "heavy"), "products.csv:2: specs: must be a JSON object"),
    ("customers.csv", b"id,name,email\n1,Ad\xe9le,a@example.com\n", "customers.csv: not UTF-8 text (byte 0xe9"),
    ("orders.json", "[{", "orders.json:1: not valid JSON"),
    ("products.json", "[]", "products.csv and products.json: both present"),
])
def test_a_bad_row_is_named_and_nothing_is_written(sqlite_sessions, tmp_path, name, content, problem):
    files = {**SHOP, name: content}
    if name == "orders.json":
        del files["orders.csv"]
    with pytest.raises(ShopDataError) as caught:
        load_shop(sqlite_sessions, write_shop(tmp_path / "shop", files))
    assert "nothing was imported" in str(caught.value) or problem.split(":")[0] in str(caught.value)
    assert any(line.startswith(problem) for line in caught.value.problems), caught.value.problems
    assert all(rows == [] for rows in snapshot(sqlite_sessions).values())


def test_a_bad_row_is_reported_once_not_again_by_the_rows_that_name_it(sqlite_sessions, tmp_path):
    files = {**SHOP, "products.csv": SHOP["products.csv"].replace("12.5", "-1"),
             "orders.csv": SHOP["orders.csv"].replace("2025-03-06", "2025-02-30")}
    with pytest.raises(ShopDataError) as caught:
        load_shop(sqlite_sessions, write_shop(tmp_path / "shop", files))
    assert [p.split(":")[0:3] for p in caught.value.problems] == [["products.csv", "3", " price"],
                                                                   ["orders.csv", "2", " estimated_delivery"]]


def test_a_bad_file_leaves_a_loaded_store_as_it_was(sessions, tmp_path):
    folder = write_shop(tmp_path / "shop")
    load_shop(sessions, folder)
    before = snapshot(sessions)
    (folder / "variants.csv").write_text(SHOP["variants.csv"].replace("P2,,Red,0", "P2,,Red,-2"))
    (folder / "orders.csv").write_text(SHOP["orders.csv"].replace("B101,2,processing", "B101,2,cancelled"))
    with pytest.raises(ShopDataError, match=r"variants.csv:4: stock"):
        load_shop(sessions, folder)
    assert snapshot(sessions) == before


def test_the_problem_list_is_capped(sqlite_sessions, tmp_path):
    rows = "".join(f"X{n},,Black,-1\n" for n in range(30))
    folder = write_shop(tmp_path / "shop", {"products.csv": SHOP["products.csv"], "variants.csv": "sku,size,colour,stock\n" + rows})
    with pytest.raises(ShopDataError) as caught:
        load_shop(sqlite_sessions, folder)
    assert len(caught.value.problems) == 30
    lines = str(caught.value).splitlines()
    assert len(lines) == 22 and lines[-1].strip() == "and 10 more"
    assert lines[1].strip().startswith("variants.csv:2: stock:")


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"CHATBOT_HOME": str(home), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "knowledge", *args], cwd=REPO_ROOT, env=env, text=True,
                          capture_output=True, timeout=120)


def test_cli_load_shop_reports_counts_and_errors(tmp_path):
    folder = write_shop(tmp_path / "shop")
    done = _cli(tmp_path, "load-shop", "--from", str(folder))
    assert done.returncode == 0, done.stderr
    assert "variants: 3 from variants.csv (3 added, 0 updated, 0 unchanged)" in done.stdout
    (folder / "orders.csv").write_text(SHOP["orders.csv"].replace("B101,2,", "B101,99,"))
    failed = _cli(tmp_path, "load-shop", "--from", str(folder))
    assert failed.returncode == 1 and "orders.csv:3: customer_id: unknown customer 99" in failed.stderr
    no_sync = _cli(tmp_path, "sync-shop")
    assert no_sync.returncode == 1 and "no `sync` section" in no_sync.stderr


# -- The sync from the shop's own database --------------------------------------------------------

SOURCE_TABLES = """
CREATE TABLE {s}catalog (code VARCHAR(20) PRIMARY KEY, title VARCHAR(100), cat VARCHAR(50), price NUMERIC(10, 2));
CREATE TABLE {s}stock (code VARCHAR(20), size VARCHAR(10), colour VARCHAR(20), qty INTEGER);
CREATE TABLE {s}clients (id INTEGER PRIMARY KEY, full_name VARCHAR(100), email VARCHAR(100), signed_up TIMESTAMP);
CREATE TABLE {s}sales (ref VARCHAR(20) PRIMARY KEY, client INTEGER, state VARCHAR(20), placed TIMESTAMP,
                       carrier VARCHAR(20), tracking VARCHAR(40), total NUMERIC(10, 2));
CREATE TABLE {s}sale_lines (ref VARCHAR(20), code VARCHAR(20), qty INTEGER, price NUMERIC(10, 2));
INSERT INTO {s}catalog VALUES ('S1', 'Headlamp', 'Lights', 39.00), ('S2', 'Lantern', 'Lights', 24.50);
INSERT INTO {s}stock VALUES ('S1', '', 'Black', 5), ('S2', '', 'Orange', 2);
INSERT INTO {s}clients VALUES (7, 'Ada Lovelace', 'ada@example.com', '2025-01-02 03:04:05');
INSERT INTO {s}sales VALUES ('Z1', 7, 'shipped', '2025-02-01 10:00:00', 'DHL', 'JD0001', 63.50);
INSERT INTO {s}sale_lines VALUES ('Z1', 'S1', 1, 39.00), ('Z1', 'S2', 1, 24.50);
"""


def sync_for(url: str, s: str = "") -> Sync:
    """The profile section a shop would write: its own column names, aliased to the CSV format's."""
    return Sync(
        url=url, every_minutes=0.002,
        products=f"SELECT code AS sku, title AS name, cat AS category, price FROM {s}catalog",
        variants=f"SELECT code AS sku, size, colour, qty AS stock FROM {s}stock",
        customers=f"SELECT id, full_name AS name, email, signed_up AS created_at FROM {s}clients",
        orders=f"SELECT ref AS number, client AS customer_id, state AS status, placed AS placed_at, carrier, "
               f"tracking AS tracking_number, total FROM {s}sales",
        order_items=f"SELECT ref AS number, code AS sku, qty AS quantity, price AS unit_price FROM {s}sale_lines",
    )


@pytest.fixture
def sqlite_source(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'shop-source.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in SOURCE_TABLES.format(s="").split(";"):
            if statement.strip():
                connection.exec_driver_sql(statement)
    engine.dispose()
    return url


@pytest.fixture
def postgres_source():
    """The shop's tables in a schema of their own in the test database; dropped afterwards."""
    schema = f"shop_source_{uuid.uuid4().hex[:10]}"
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            for statement in SOURCE_TABLES.format(s=f'"{schema}".').split(";"):
                if statement.strip():
                    connection.execute(text(statement))
    except Exception as exc:
        engine.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.__class__.__name__}")
    try:
        yield POSTGRES_URL, f'"{schema}".'
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _sync_round_trip(sessions, url: str, s: str) -> None:
    sync = sync_for(url, s)
    first = sync_shop(sessions, sync)
    assert counts(first) == {"products": (2, 0, 0), "variants": (2, 0, 0), "customers": (1, 0, 0), "orders": (1, 0, 0)}
    with sessions() as session:
        order = session.scalar(select(Order).where(Order.number == "Z1"))
        assert [(i.sku, i.name, i.unit_price) for i in order.items] == [("S1", "Headlamp", Decimal("39.00")),
                                                                         ("S2", "Lantern", Decimal("24.50"))]
    source = create_engine(url)
    with source.begin() as connection:
        connection.execute(text(f"UPDATE {s}stock SET qty = 0 WHERE code = 'S2'"))
    source.dispose()
    second = sync_shop(sessions, sync)
    assert counts(second) == {"products": (0, 0, 2), "variants": (0, 1, 1), "customers": (0, 0, 1), "orders": (0, 0, 1)}
    before = snapshot(sessions)
    third = sync_shop(sessions, sync)
    assert counts(third) == {"products": (0, 0, 2), "variants": (0, 0, 2), "customers": (0, 0, 1), "orders": (0, 0, 1)}
    assert snapshot(sessions) == before


def test_sync_from_sqlite_adds_updates_then_changes_nothing(sessions, sqlite_source):
    _sync_round_trip(sessions, sqlite_source, "")


@pytest.mark.postgres
def test_sync_from_postgresql_adds_updates_then_changes_nothing(sessions, postgres_source):
    _sync_round_trip(sessions, *postgres_source)


@pytest.mark.postgres
def test_sync_queries_run_read_only(sqlite_sessions, postgres_source):
    url, s = postgres_source
    sync = Sync(url=url, products=f"INSERT INTO {s}catalog VALUES ('S9', 'Tarp', 'Shelter', 5) "
                                  "RETURNING code AS sku, title AS name, price")
    with pytest.raises(ShopDataError, match="read-only transaction"):
        sync_shop(sqlite_sessions, sync)
    with create_engine(url).connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM {s}catalog")).scalar() == 2


def test_sync_rows_are_checked_like_files(sqlite_sessions, sqlite_source):
    sync = sync_for(sqlite_source).model_copy(update={"orders": None, "order_items": None,
                                                      "variants": "SELECT code AS sku, -1 AS stock FROM stock"})
    with pytest.raises(ShopDataError) as caught:
        sync_shop(sqlite_sessions, sync)
    assert "variants query:1: stock: Input should be greater than or equal to 0 (got -1)" in caught.value.problems
    assert all(rows == [] for rows in snapshot(sqlite_sessions).values())


def test_sync_thread_syncs_and_never_logs_the_password(sqlite_sessions, sqlite_source, caplog):
    caplog.set_level(logging.INFO, logger="knowledge.shop_sync")
    running = ShopSync(sqlite_sessions, sync_for(sqlite_source)).start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "2 unchanged" not in caplog.text:  # a first sync, then a second
            time.sleep(0.05)
    finally:
        running.close()
    assert not running._thread.is_alive()
    assert "products: 2 from products query (0 added, 0 updated, 2 unchanged)" in caplog.text
    broken = ShopSync(sqlite_sessions, Sync(url="postgresql://shop:s3cret@127.0.0.1:1/shop", products="SELECT 1"))
    assert broken.run_once() is None
    assert "s3cret" not in caplog.text and "shop:***@127.0.0.1:1" in caplog.text
    assert safe_url("postgresql://shop:s3cret@db/shop") == "postgresql://shop:***@db/shop"


def test_sqlite_sync_queries_run_read_only(sqlite_sessions, sqlite_source):
    sync = Sync(url=sqlite_source, products="DELETE FROM catalog RETURNING code AS sku, title AS name, price")
    with pytest.raises(ShopDataError, match="readonly"):
        sync_shop(sqlite_sessions, sync)
    with create_engine(sqlite_source).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM catalog")).scalar() == 2


def test_the_served_desk_syncs_while_it_runs(sqlite_sessions, sqlite_source, tmp_path, embedder):
    """The app's lifespan starts the profile's sync and stops it on shutdown; synced products
    reach the index the desk answers from, without a restart."""
    import threading

    import yaml
    from fastapi.testclient import TestClient

    from chatbot.api import create_app
    from chatbot.desk import Desk
    from knowledge.build import build_index
    from knowledge.index import Index
    from knowledge.retrieval import Retriever
    from tests.conftest import make_settings

    profile = tmp_path / "shop.yaml"
    profile.write_text(yaml.safe_dump({"name": "Lamp Shop", "documents": [],
                                       "sync": sync_for(sqlite_source).model_dump()}))
    settings = make_settings(tmp_path, shop=profile)
    build_index([], settings.index_dir, embedder, sqlite_sessions)  # nothing synced yet: an empty index
    desk = Desk(settings, sqlite_sessions, generator=None, retriever=Retriever(Index.load(settings.index_dir), embedder),
                risk=None, policy=None)
    with TestClient(create_app(settings, desk)):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(desk.retriever.index.chunks) < 2:
            time.sleep(0.05)
        assert [t.name for t in threading.enumerate()].count("shop-sync") == 1
    assert len(snapshot(sqlite_sessions)["orders"]) == 1
    assert "shop-sync" not in [t.name for t in threading.enumerate()]
    assert {c.title for c in desk.retriever.index.chunks} == {"Headlamp", "Lantern"}
    assert desk.retriever.search("headlamp", 1)[0].chunk.title == "Headlamp"
