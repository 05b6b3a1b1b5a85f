"""Import a shop's products, variants, customers and orders (CSV or JSON files) into the SQL store.

    python -m knowledge load-shop [--from knowledge/demo/store]

The formats are in docs/shop-data.md: per kind of record a `<kind>.csv` or `<kind>.json` file
(products, variants, customers, orders, order_items); JSON products may carry their variants and
JSON orders their items, as `python -m knowledge.demo_shop` writes them. A kind without a file
is skipped. Every row is checked (pydantic models below) before anything is written: one bad row
and the store stays exactly as it was, with every problem listed as `file:row: field: message`.
Rows are upserted by SKU, customer id and order number, and only what differs is written, so a
second run reports everything unchanged and touches no row. Nothing absent from the files is
deleted: orders and conversations refer to it. knowledge/shop_sync.py feeds the rows of SQL
queries through the same checks and upserts.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker
from tqdm import tqdm

from shopcore.store.db import transaction
from shopcore.store.models import ORDER_STATUSES, Customer, Order, OrderItem, Product, ProductVariant, as_utc

# Order items are part of their order (no key of their own): they are counted in the orders' counts.
KINDS = ("products", "variants", "customers", "orders", "order_items")
COUNTED = ("products", "variants", "customers", "orders")
MAX_PROBLEMS = 20  # listed in an error; the rest are counted


class ShopDataError(Exception):
    """Shop data that cannot be imported; `problems` holds one `file:row: field: message` per line."""

    def __init__(self, summary: str, problems: Iterable[str] = ()):
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS]
        if len(self.problems) > MAX_PROBLEMS:
            shown.append(f"and {len(self.problems) - MAX_PROBLEMS} more")
        super().__init__(summary + "".join(f"\n  {line}" for line in shown))


# -- One model per row: the formats of docs/shop-data.md ------------------------------------------

def _text(max_length: int, required: bool = False):
    return Annotated[str, StringConstraints(min_length=1 if required else 0, max_length=max_length)]


def _utc(moment: datetime) -> datetime:
    # A time without a zone is taken as UTC; one with a zone is stored as UTC (SQLite drops the zone).
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Moment = Annotated[datetime, AfterValidator(_utc)]
Status = Annotated[Literal[ORDER_STATUSES], BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)]
Country = Annotated[str, BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
                    StringConstraints(pattern=r"^([A-Z]{2})?$")]
Email = Annotated[str, StringConstraints(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, data: Any) -> Any:
        """An empty cell or null sets an optional field's default; a required one stays missing."""
        if not isinstance(data, dict):
            return data
        kept = {}
        for key, value in data.items():
            spec = cls.model_fields.get(key)
            if spec is not None and (value is None or (isinstance(value, str) and not value.strip())):
                if spec.is_required():
                    continue
                value = spec.get_default(call_default_factory=True)
            kept[key] = value
        return kept

    def given(self) -> dict[str, Any]:
        """The fields the row names (a column or key it lacks leaves the stored value alone)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class ProductRow(_Row):
    sku: _text(64, required=True)
    name: _text(200, required=True)
    category: _text(100) = ""
    price: Money
    description: str = ""
    materials: str = ""
    care: str = ""
    specs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("specs", mode="before")
    @classmethod
    def _specs(cls, value: Any) -> Any:
        if isinstance(value, str):  # a CSV cell holds the specs as a JSON object
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ValueError('must be a JSON object such as {"Weight": "410 g"}') from None
        return value


class VariantRow(_Row):
    sku: _text(64, required=True)
    size: _text(40) = ""
    colour: _text(60) = ""
    stock: Annotated[int, Field(ge=0)]


class CustomerRow(_Row):
    id: Annotated[int, Field(ge=1)]
    name: _text(200, required=True)
    email: Email
    country: Country = ""
    region: _text(100) = ""
    created_at: Moment | None = None  # None: now for a new customer, unchanged for a known one
    loyalty_tier: _text(40) = ""
    loyalty_points: Annotated[int, Field(ge=0)] = 0


class OrderRow(_Row):
    number: _text(32, required=True)
    customer_id: Annotated[int, Field(ge=1)]
    status: Status
    placed_at: Moment
    shipped_at: Moment | None = None
    delivered_at: Moment | None = None
    estimated_delivery: date | None = None
    shipping_method: _text(60) = ""
    carrier: _text(40) | None = None
    tracking_number: _text(64) | None = None
    shipping_cost: Money = Decimal("0")
    discount: Money = Decimal("0")
    total: Money
    status_note: str | None = None


class OrderItemRow(_Row):
    number: _text(32, required=True)
    sku: _text(64, required=True)
    name: _text(200) = ""  # empty: the product's name
    size: _text(40) = ""
    colour: _text(60) = ""
    quantity: Annotated[int, Field(ge=1)] = 1
    unit_price: Money


MODELS: dict[str, type[_Row]] = {"products": ProductRow, "variants": VariantRow, "customers": CustomerRow,
                                 "orders": OrderRow, "order_items": OrderItemRow}
KEYS = {"products": ("sku",), "variants": ("sku", "size", "colour"), "customers": ("id",), "orders": ("number",)}


# -- Reading: files (and, in shop_sync, queries) become raw rows ----------------------------------

@dataclass(frozen=True)
class RawRow:
    where: str  # "products.csv:3": the file and row (or the query and row) to name in a problem
    data: dict[str, Any]
    prefix: str = ""  # "variants.2." for a variant written inside its product's JSON record


@dataclass
class Batch:
    """Raw rows per kind, where each kind came from, and the problems met while reading."""

    rows: dict[str, list[RawRow]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    sources: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # kind -> why
    problems: list[str] = field(default_factory=list)

    def add_table(self, kind: str, source: str, columns: list[str], records: Iterable[tuple[int, list]],
                  header: str | None = None) -> None:
        """Rows of a table (a CSV file, a query's result): check the columns once, then each row.

        `records` are (row number, values); `header` names the columns' place in a problem
        (default: line 1 of source).
        """
        self.sources[kind] = source
        header = header or f"{source}:1"
        columns = [str(column).strip().lower() for column in columns]
        known = MODELS[kind].model_fields
        bad = [f"{header}: {c}: unknown column (columns: {', '.join(known)})" for c in columns if c not in known]
        bad += [f"{header}: {c}: column appears twice" for c in sorted({c for c in columns if columns.count(c) > 1})]
        bad += [f"{header}: {name}: required column is missing" for name, spec in known.items()
                if spec.is_required() and name not in columns]
        if bad:  # a wrong header would fail every row: report it once
            self.problems += bad
            return
        for number, values in records:
            if len(values) != len(columns):
                self.problems.append(f"{source}:{number}: (row): has {len(values)} values, the header has {len(columns)}")
            else:
                self.rows[kind].append(RawRow(f"{source}:{number}", dict(zip(columns, values))))


def read_folder(folder: Path) -> Batch:
    """Read every `<kind>.csv` / `<kind>.json` in folder; a kind without a file is skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ShopDataError(f"{folder} is not a folder of shop data (docs/shop-data.md)")
    batch = Batch()
    for kind in KINDS:
        found = [folder / f"{kind}{suffix}" for suffix in (".csv", ".json") if (folder / f"{kind}{suffix}").is_file()]
        if len(found) > 1:
            batch.problems.append(f"{kind}.csv and {kind}.json: both present; keep one")
        elif found and found[0].suffix == ".csv":
            _read_csv(batch, kind, found[0])
        elif found:
            _read_json(batch, kind, found[0])
    if not batch.sources and not batch.problems:
        raise ShopDataError(f"no shop data in {folder}: expected products.csv or products.json, customers..., "
                            "orders... (docs/shop-data.md)")
    for kind in KINDS:
        if kind not in batch.sources:
            batch.skipped.setdefault(kind, f"no {kind}.csv or {kind}.json")
    return batch


def _decode(batch: Batch, path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8-sig")  # Excel starts its UTF-8 CSV with a BOM
    except UnicodeDecodeError as exc:
        batch.problems.append(f"{path.name}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                              f"{exc.start}); save it as UTF-8 (Excel: 'CSV UTF-8')")
    except OSError as exc:
        batch.problems.append(f"{path.name}: cannot be read: {exc.strerror}")
    return None


def _read_csv(batch: Batch, kind: str, path: Path) -> None:
    text = _decode(batch, path)
    if text is None:
        return
    header = text.partition("\n")[0]
    # Comma by default; a spreadsheet set to a European locale writes semicolons.
    delimiter = max(",;\t", key=lambda d: (header.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list]] = []
    try:
        columns = next(reader, [])
        while True:
            line = reader.line_num + 1  # the line the row starts on (the header is line 1)
            values = next(reader, None)
            if values is None:
                break
            if any(value.strip() for value in values):  # blank lines are skipped
                records.append((line, values))
    except csv.Error as exc:
        batch.problems.append(f"{path.name}:{reader.line_num}: not readable CSV: {exc}")
        return
    if not columns:
        batch.problems.append(f"{path.name}:1: empty file; the first line names the columns")
        return
    batch.add_table(kind, path.name, columns, records)


def _read_json(batch: Batch, kind: str, path: Path) -> None:
    text = _decode(batch, path)
    if text is None:
        return
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        batch.problems.append(f"{path.name}:{exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno})")
        return
    if not isinstance(records, list):
        batch.problems.append(f"{path.name}: must hold a JSON list of records, [{{...}}, ...]")
        return
    batch.sources[kind] = path.name
    # Products may carry their variants, orders their items: each becomes a row of that kind.
    inner_kind, inner_key, parent_key = {"products": ("variants", "variants", "sku"),
                                         "orders": ("order_items", "items", "number")}.get(kind, (None, None, None))
    for number, record in enumerate(records, 1):
        where = f"{path.name}:{number}"
        if not isinstance(record, dict):
            batch.problems.append(f"{where}: (record): must be a JSON object {{...}}")
            continue
        record = dict(record)
        inner = record.pop(inner_key, None) if inner_key else None
        batch.rows[kind].append(RawRow(where, record))
        if inner is None:
            continue
        if not isinstance(inner, list):
            batch.problems.append(f"{where}: {inner_key}: must be a list of objects")
            continue
        batch.sources.setdefault(inner_kind, path.name)
        for position, data in enumerate(inner, 1):
            prefix = f"{inner_key}.{position}."
            if isinstance(data, dict):
                batch.rows[inner_kind].append(RawRow(where, {parent_key: record.get(parent_key), **data}, prefix))
            else:
                batch.problems.append(f"{where}: {prefix}(record): must be a JSON object {{...}}")


# -- Checking: rows -> models, keys unique, references known --------------------------------------

@dataclass
class Checked:
    rows: dict[str, dict[Any, _Row]] = field(default_factory=dict)  # kind -> key -> row
    raw: dict[tuple[str, Any], RawRow] = field(default_factory=dict)  # (kind, key) -> where it was read
    items: dict[str, list[tuple[RawRow, OrderItemRow]]] = field(default_factory=dict)  # number -> items


def _check_rows(batch: Batch, problems: list[str]) -> Checked:
    checked = Checked()
    for kind in KINDS:
        keyed: dict[Any, _Row] = {}
        for raw in batch.rows[kind]:
            try:
                row = MODELS[kind].model_validate(raw.data)
            except ValidationError as exc:
                problems += [_problem(raw, error) for error in exc.errors(include_url=False)]
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
        known = sku in rows["products"] or sku in stored.products
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
        if order.customer_id not in rows["customers"] and order.customer_id not in stored.customers:
            problems.append(f"{_at(raw[('orders', number)], 'customer_id')}: unknown customer {order.customer_id} "
                            f"(not in {_named(sources, 'customers')})")
    for number, items in checked.items.items():
        for item_raw, item in items:
            if number not in rows["orders"]:
                problems.append(f"{_at(item_raw, 'number')}: order {number!r} is not in "
                                f"{sources.get('orders', 'an orders file')}")
            if message := unknown_product(item.sku):
                problems.append(f"{_at(item_raw, 'sku')}: {message}")


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
                                    problems)
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

    def upsert(found, model, row: _Row):
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
