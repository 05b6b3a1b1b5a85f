"""Import a shop's products, variants, customers and orders (CSV or JSON files) into the SQL store.

    python -m knowledge load-shop [--from knowledge/demo/store]

The formats are in docs/shop-data.md (models and readers: knowledge/shop_rows.py). A kind
without a file is skipped. Every row is checked before anything is written: one bad row and
the store stays exactly as it was, with every problem listed as `file:row: field: message`.
Rows are upserted by SKU, customer id and order number, and only what differs is written, so a
second run reports everything unchanged and touches no row. Nothing absent from the files is
deleted: orders and conversations refer to it. knowledge/shop_sync.py feeds the rows of SQL
queries through the same checks and upserts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker
from tqdm import tqdm

from knowledge.shop_rows import (
    KEYS,
    KINDS,
    MODELS,
    Batch,
    OrderItemRow,
    RawRow,
    ShopDataError,
    ShopRow,
    read_folder,
)
from shopcore.store.db import transaction
from shopcore.store.models import Customer, Order, OrderItem, Product, ProductVariant, as_utc

# Order items are part of their order (no key of their own): they are counted in the orders' counts.
COUNTED = ("products", "variants", "customers", "orders")


# -- Checking: rows -> models, keys unique, references known --------------------------------------

@dataclass
class Checked:
    rows: dict[str, dict[Any, ShopRow]] = field(default_factory=dict)  # kind -> key -> row
    raw: dict[tuple[str, Any], RawRow] = field(default_factory=dict)  # (kind, key) -> where it was read
    items: dict[str, list[tuple[RawRow, OrderItemRow]]] = field(default_factory=dict)  # number -> items
    # The keys of rows that failed their own checks: already reported, so not "unknown" again.
    failed: dict[str, set[str]] = field(default_factory=lambda: {kind: set() for kind in KINDS})
    unreadable: set[str] = field(default_factory=set)  # kinds whose file was not read: nothing to say

    def known(self, kind: str, key: Any, stored: Mapping) -> bool:
        return (key in self.rows[kind] or key in stored or str(key) in self.failed[kind]
                or kind in self.unreadable)


def _check_rows(batch: Batch, problems: list[str]) -> Checked:
    checked = Checked(unreadable=set(batch.unreadable))
    for kind in KINDS:
        keyed: dict[Any, ShopRow] = {}
        for raw in batch.rows[kind]:
            try:
                row = MODELS[kind].model_validate(raw.data)
            except ValidationError as exc:
                problems += [_problem(raw, error) for error in exc.errors(include_url=False)]
                if kind in KEYS and len(KEYS[kind]) == 1:
                    checked.failed[kind].add(str(raw.data.get(KEYS[kind][0])).strip())
                continue
            if kind == "order_items":
                checked.items.setdefault(row.number, []).append((raw, row))
                continue
            key = tuple(getattr(row, name) for name in KEYS[kind])
            key = key[0] if len(key) == 1 else key
            if key in keyed:
                first = checked.raw[(kind, key)]
                problems.append(f"{_at(raw, '/'.join(KEYS[kind]))}: {key!r} is also on {first.where}")
                continue
            keyed[key] = row
            checked.raw[(kind, key)] = raw
        checked.rows[kind] = keyed
    return checked


def _at(raw: RawRow, name: str) -> str:
    return f"{raw.where}: {raw.prefix}{name}"


def _problem(raw: RawRow, error: dict) -> str:
    at = _at(raw, ".".join(str(part) for part in error["loc"]) or "(row)")
    if error["type"] == "missing":
        return f"{at}: required"
    if error["type"] == "extra_forbidden":
        return f"{at}: unknown field"
    shown = repr(error["input"])
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{at}: {error['msg'].removeprefix('Value error, ')} (got {shown})"


@dataclass
class Stored:
    """The store's rows that the batch names, by key."""

    products: dict[str, Product]
    customers: dict[int, Customer]
    emails: dict[str, int]  # email -> customer id, for the emails the batch names
    orders: dict[str, Order]


def _stored(session: Session, checked: Checked) -> Stored:
    rows = checked.rows
    skus = set(rows["products"]) | {sku for sku, _, _ in rows["variants"]}
    skus |= {item.sku for items in checked.items.values() for _, item in items}
    ids = set(rows["customers"]) | {order.customer_id for order in rows["orders"].values()}
    emails = {customer.email for customer in rows["customers"].values()}
    return Stored(
        products={p.sku: p for p in _fetch(session, Product, Product.sku, skus, selectinload(Product.variants))},
        customers={c.id: c for c in _fetch(session, Customer, Customer.id, ids)},
        emails={c.email: c.id for c in _fetch(session, Customer, Customer.email, emails)},
        orders={o.number: o for o in _fetch(session, Order, Order.number, set(rows["orders"]), selectinload(Order.items))},
    )


def _fetch(session: Session, model, column, keys: set, *options) -> Iterator:
    keys = sorted(keys, key=str)
    for start in range(0, len(keys), 500):  # SQLite caps the parameters of one statement
        yield from session.scalars(select(model).where(column.in_(keys[start:start + 500])).options(*options))


def _check_references(checked: Checked, stored: Stored, sources: dict[str, str], problems: list[str]) -> None:
    rows, raw = checked.rows, checked.raw

    def unknown_product(sku: str) -> str | None:
        known = checked.known("products", sku, stored.products)
        return None if known else f"unknown product {sku!r} (not in {_named(sources, 'products')})"

    for key, variant in rows["variants"].items():
        if message := unknown_product(variant.sku):
            problems.append(f"{_at(raw[('variants', key)], 'sku')}: {message}")
    owners: dict[str, int] = {}
    for customer_id, customer in rows["customers"].items():
        owner = owners.setdefault(customer.email, customer_id)
        stored_owner = stored.emails.get(customer.email, customer_id)
        if owner != customer_id:
            problems.append(f"{_at(raw[('customers', customer_id)], 'email')}: {customer.email!r} is also "
                            f"customer {owner}'s ({raw[('customers', owner)].where})")
        elif stored_owner != customer_id and stored_owner not in rows["customers"]:
            problems.append(f"{_at(raw[('customers', customer_id)], 'email')}: {customer.email!r} belongs to "
                            f"customer {stored_owner} in the store")
    for number, order in rows["orders"].items():
        if not checked.known("customers", order.customer_id, stored.customers):
            problems.append(f"{_at(raw[('orders', number)], 'customer_id')}: unknown customer {order.customer_id} "
                            f"(not in {_named(sources, 'customers')})")
    for number, items in checked.items.items():
        for item_raw, item in items:
            if not checked.known("orders", number, {}):
                problems.append(f"{_at(item_raw, 'number')}: order {number!r} is not in "
                                f"{sources.get('orders', 'an orders file')}")
            if message := unknown_product(item.sku):
                problems.append(f"{_at(item_raw, 'sku')}: {message}")


def _reading_order(sources: dict[str, str]):
    """Sort problems file by file (in the order of KINDS), row by row."""
    rank = {source: position for position, source in enumerate(sources[k] for k in KINDS if k in sources)}

    def key(problem: str) -> tuple[int, int]:
        source, _, rest = problem.partition(":")
        row = rest.split(":", 1)[0]
        return rank.get(source, -1), int(row) if row.isdigit() else 0

    return key


def _named(sources: dict[str, str], kind: str) -> str:
    return f"{sources[kind]} nor the store" if kind in sources else "the store"


# -- Writing: upsert what differs, count what did not ---------------------------------------------

@dataclass(frozen=True)
class Counts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged

    def __str__(self) -> str:
        return f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged"


@dataclass(frozen=True)
class ShopImport(Mapping):
    """What an import did, per kind. As a mapping it reads {kind: rows imported} (the old result)."""

    counts: dict[str, Counts]
    sources: dict[str, str]
    skipped: dict[str, str]

    def __getitem__(self, kind: str) -> int:
        return self.counts[kind].total

    def __iter__(self) -> Iterator[str]:
        return iter(self.counts)

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def changed(self) -> int:
        return sum(c.added + c.updated for c in self.counts.values())

    def lines(self) -> list[str]:
        lines = []
        for kind in KINDS:
            if kind in self.counts:
                lines.append(f"{kind}: {self.counts[kind].total} from {self.sources[kind]} ({self.counts[kind]})")
            elif kind in self.sources:
                lines.append(f"{kind}: from {self.sources[kind]} (counted with their orders)")
            else:
                lines.append(f"{kind}: skipped ({self.skipped.get(kind, 'no data')})")
        return lines


def import_batch(sessions: sessionmaker[Session], batch: Batch, progress: bool = True) -> ShopImport:
    """Check every row of batch, then upsert them all in one transaction; raise ShopDataError if any is bad."""
    problems = list(batch.problems)
    checked = _check_rows(batch, problems)
    try:
        with transaction(sessions) as session:
            stored = _stored(session, checked)
            _check_references(checked, stored, batch.sources, problems)
            if problems:  # raising inside the transaction rolls it back: nothing was written anyway
                raise ShopDataError(f"malformed shop data: {len(problems)} problem(s); nothing was imported",
                                    sorted(problems, key=_reading_order(batch.sources)))
            counts = _upsert(session, checked, stored, progress)
    except IntegrityError as exc:  # a rule the checks above do not know: still nothing written
        raise ShopDataError(f"the store refused the shop data, nothing was imported: {exc.orig}") from None
    counts = {kind: n for kind, n in counts.items() if kind in batch.sources}
    return ShopImport(counts, dict(batch.sources), dict(batch.skipped))


def load_shop(sessions: sessionmaker[Session], folder: Path, progress: bool = True) -> ShopImport:
    """Upsert every product, variant, customer and order in folder; return what changed per kind."""
    return import_batch(sessions, read_folder(folder), progress)


def _apply(target, values: dict[str, Any]) -> bool:
    """Set the values that differ on target; True if any did (equal values are left untouched)."""
    changed = False
    for name, value in values.items():
        current = getattr(target, name)
        if isinstance(current, datetime) and isinstance(value, datetime):
            current = as_utc(current)
        if current != value:
            setattr(target, name, value)
            changed = True
    return changed


def _upsert(session: Session, checked: Checked, stored: Stored, progress: bool) -> dict[str, Counts]:
    tally = {kind: Counter() for kind in COUNTED}
    rows, products = checked.rows, stored.products
    variants = {(p.sku, v.size, v.colour): v for p in products.values() for v in p.variants}

    def bar(kind: str, values):
        return tqdm(values, desc=kind, unit="", leave=False, disable=not progress)

    def upsert(found, model, row: ShopRow):
        """Insert row, or set what differs on found: (the object, added | updated | unchanged)."""
        if found is None:
            found = model(**_values(row.model_dump()))
            session.add(found)
            return found, "added"
        return found, "updated" if _apply(found, _values(row.given())) else "unchanged"

    for sku, row in bar("products", rows["products"].items()):
        products[sku], outcome = upsert(products.get(sku), Product, row)
        tally["products"][outcome] += 1
    session.flush()  # new products get their ids before order items refer to them
    for key, row in bar("variants", rows["variants"].items()):
        if key in variants:
            tally["variants"]["updated" if _apply(variants[key], {"stock": row.stock}) else "unchanged"] += 1
        else:
            session.add(ProductVariant(product_id=products[row.sku].id, size=row.size, colour=row.colour,
                                       stock=row.stock))
            tally["variants"]["added"] += 1
    for customer_id, row in bar("customers", rows["customers"].items()):
        tally["customers"][upsert(stored.customers.get(customer_id), Customer, row)[1]] += 1
    session.flush()  # orders refer to new customers
    for number, row in bar("orders", rows["orders"].items()):
        order, outcome = upsert(stored.orders.get(number), Order, row)
        items = [_item(products, item) for _, item in checked.items.get(number, [])]
        if items and [_fields(i) for i in order.items] != [_fields(i) for i in items]:
            order.items[:] = items  # an order's items are replaced as a whole (they have no key)
            outcome = "updated" if outcome == "unchanged" else outcome
        tally["orders"][outcome] += 1
    session.flush()
    return {kind: Counts(n["added"], n["updated"], n["unchanged"]) for kind, n in tally.items()}


def _values(values: dict[str, Any]) -> dict[str, Any]:
    if "created_at" in values and values["created_at"] is None:  # no date: keep the stored one (new: now)
        values = {name: value for name, value in values.items() if name != "created_at"}
    return values


def _item(products: dict[str, Product], row: OrderItemRow) -> OrderItem:
    product = products[row.sku]
    return OrderItem(product_id=product.id, sku=row.sku, name=row.name or product.name, size=row.size,
                     colour=row.colour, quantity=row.quantity, unit_price=row.unit_price)


def _fields(item: OrderItem) -> tuple:
    return item.product_id, item.sku, item.name, item.size, item.colour, item.quantity, Decimal(item.unit_price)
