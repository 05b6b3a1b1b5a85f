"""Import a shop's products, customers and orders (JSON files) into the SQL store.

    python -m knowledge load-shop [--from knowledge/demo/store]

The folder holds products.json, customers.json and orders.json in the format that
`python -m knowledge.demo_shop` writes. Importing is idempotent: rows are matched by SKU, customer
id and order number and updated in place, so running it again changes nothing.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from shopcore.store.db import transaction
from shopcore.store.models import Customer, Order, OrderItem, Product, ProductVariant


class ShopDataError(Exception):
    """A shop data file is missing or malformed; the message names the file and record."""


def _read(folder: Path, name: str) -> list[dict]:
    path = folder / name
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ShopDataError(f"{path} is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ShopDataError(f"{path} is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(records, list):
        raise ShopDataError(f"{path} must hold a JSON list of records")
    return records


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def load_shop(sessions: sessionmaker[Session], folder: Path) -> dict[str, int]:
    """Upsert every product, customer and order in folder; return counts per kind."""
    products, customers, orders = (
        _read(folder, name) for name in ("products.json", "customers.json", "orders.json")
    )
    # One transaction: a malformed record leaves the store exactly as it was.
    with transaction(sessions) as session:
        try:
            by_sku = {p.sku: p for p in session.scalars(select(Product))}
            for record in tqdm(products, desc="products", unit="", leave=False):
                by_sku[record["sku"]] = _upsert_product(session, by_sku.get(record["sku"]), record)
            session.flush()
            known_customers = {c.id: c for c in session.scalars(select(Customer))}
            for record in tqdm(customers, desc="customers", unit="", leave=False):
                _upsert_customer(session, known_customers.get(record["id"]), record)
            session.flush()
            by_number = {o.number: o for o in session.scalars(select(Order))}
            for record in tqdm(orders, desc="orders", unit="", leave=False):
                _upsert_order(session, by_number.get(record["number"]), record, by_sku)
        except (KeyError, TypeError, ValueError) as exc:
            raise ShopDataError(f"malformed record in {folder}: {exc!r}") from None
    return {"products": len(products), "customers": len(customers), "orders": len(orders)}


def _upsert_product(session: Session, product: Product | None, record: dict) -> Product:
    if product is None:
        product = Product(sku=record["sku"])
        session.add(product)
    product.name = record["name"]
    product.category = record["category"]
    product.price = _money(record["price"])
    product.description = record.get("description", "")
    product.materials = record.get("materials", "")
    product.care = record.get("care", "")
    product.specs = record.get("specs", {})
    wanted = {(v["size"], v["colour"]): v["stock"] for v in record.get("variants", [])}
    existing = {(v.size, v.colour): v for v in product.variants}
    for key, variant in existing.items():
        if key not in wanted:
            product.variants.remove(variant)
    for (size, colour), stock in wanted.items():
        if (size, colour) in existing:
            existing[(size, colour)].stock = stock
        else:
            product.variants.append(ProductVariant(size=size, colour=colour, stock=stock))
    return product


def _upsert_customer(session: Session, customer: Customer | None, record: dict) -> None:
    if customer is None:
        customer = Customer(id=record["id"])
        session.add(customer)
    customer.name = record["name"]
    customer.email = record["email"]
    customer.country = record.get("country", "US")
    customer.region = record.get("region", "")
    customer.created_at = _when(record.get("created_at")) or customer.created_at
    customer.loyalty_tier = record.get("loyalty_tier", "")
    customer.loyalty_points = record.get("loyalty_points", 0)


def _upsert_order(session: Session, order: Order | None, record: dict, by_sku: dict) -> None:
    if order is None:
        order = Order(number=record["number"])
        session.add(order)
    order.customer_id = record["customer_id"]
    order.status = record["status"]
    order.placed_at = _when(record["placed_at"])
    order.shipped_at = _when(record.get("shipped_at"))
    order.delivered_at = _when(record.get("delivered_at"))
    order.estimated_delivery = _day(record.get("estimated_delivery"))
    order.shipping_method = record.get("shipping_method", "")
    order.carrier = record.get("carrier")
    order.tracking_number = record.get("tracking_number")
    order.shipping_cost = _money(record.get("shipping_cost", 0))
    order.discount = _money(record.get("discount", 0))
    order.total = _money(record["total"])
    order.status_note = record.get("status_note")
    order.items.clear()
    for item in record["items"]:
        product = by_sku.get(item["sku"])
        order.items.append(
            OrderItem(
                product_id=product.id if product else None,
                sku=item["sku"],
                name=item["name"],
                size=item.get("size", ""),
                colour=item.get("colour", ""),
                quantity=item.get("quantity", 1),
                unit_price=_money(item["unit_price"]),
            )
        )
