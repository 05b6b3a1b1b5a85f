"""The shop data formats (docs/shop-data.md): one pydantic model per row of each kind, and the
readers that turn a folder of CSV and JSON files into raw rows.

A folder holds at most one `<kind>.csv` or `<kind>.json` per kind (products, variants,
customers, orders, order_items); JSON products may carry their variants and JSON orders their
items, as `python -m knowledge.demo_shop` writes them. knowledge/shop_sync.py reads query
results into the same raw rows, and knowledge/shop_data.py checks and imports them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
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
    field_validator,
    model_validator,
)

from shopcore.store.models import ORDER_STATUSES

KINDS = ("products", "variants", "customers", "orders", "order_items")
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


class ShopRow(BaseModel):
    """One row of shop data: unknown fields refused, text trimmed, a number read as text where
    text is meant (a SKU or an order number that a database holds as an integer)."""

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


class ProductRow(ShopRow):
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


class VariantRow(ShopRow):
    sku: _text(64, required=True)
    size: _text(40) = ""
    colour: _text(60) = ""
    stock: Annotated[int, Field(ge=0)]


class CustomerRow(ShopRow):
    id: Annotated[int, Field(ge=1)]
    name: _text(200, required=True)
    email: Email
    country: Country = ""
    region: _text(100) = ""
    created_at: Moment | None = None  # None: now for a new customer, unchanged for a known one
    loyalty_tier: _text(40) = ""
    loyalty_points: Annotated[int, Field(ge=0)] = 0


class OrderRow(ShopRow):
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


class OrderItemRow(ShopRow):
    number: _text(32, required=True)
    sku: _text(64, required=True)
    name: _text(200) = ""  # empty: the product's name
    size: _text(40) = ""
    colour: _text(60) = ""
    quantity: Annotated[int, Field(ge=1)] = 1
    unit_price: Money


MODELS: dict[str, type[ShopRow]] = {"products": ProductRow, "variants": VariantRow, "customers": CustomerRow,
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
    unreadable: set[str] = field(default_factory=set)  # kinds whose file could not be read at all

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
            self.unreadable.add(kind)
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
            batch.unreadable.add(kind)
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
        batch.unreadable.add(kind)
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
        batch.unreadable.add(kind)
        return
    if not columns:
        batch.problems.append(f"{path.name}:1: empty file; the first line names the columns")
        batch.unreadable.add(kind)
        return
    batch.add_table(kind, path.name, columns, records)


def _read_json(batch: Batch, kind: str, path: Path) -> None:
    text = _decode(batch, path)
    if text is None:
        batch.unreadable.add(kind)
        return
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        batch.problems.append(f"{path.name}:{exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno})")
        batch.unreadable.add(kind)
        return
    if not isinstance(records, list):
        batch.problems.append(f"{path.name}: must hold a JSON list of records, [{{...}}, ...]")
        batch.unreadable.add(kind)
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
