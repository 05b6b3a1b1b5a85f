"""Documents: what the shop knows, read from folders of files and from the SQL store.

A document has a stable id (`policies/returns`, `product/RO-JKT-0001`, `order/A1042`) that
sources, evals and the fine-tuning data all refer to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from chatbot.store.models import Order, Product

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str
    doc_type: str  # policies, faq, product, order, ...: used for filters and citations
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def read_folder(folder: Path) -> tuple[list[Document], list[Skipped]]:
    """Every readable text document under folder, and the files skipped with the reason."""
    documents, skipped = [], []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if path.suffix.lower() not in TEXT_SUFFIXES:
            skipped.append(Skipped(str(relative), f"unsupported file type {path.suffix!r}"))
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            skipped.append(Skipped(str(relative), "not UTF-8 text"))
            continue
        if not text.strip():
            skipped.append(Skipped(str(relative), "empty"))
            continue
        doc_id = relative.with_suffix("").as_posix()
        doc_type = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        documents.append(Document(doc_id, _title(text, path), text, doc_type))
    return documents, skipped


def _title(text: str, path: Path) -> str:
    heading = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
    return heading.group(1).strip() if heading else path.stem.replace("-", " ").capitalize()


def catalog_documents(session: Session) -> list[Document]:
    """One document per product in the store, fields rendered as readable text."""
    products = session.scalars(
        select(Product).options(selectinload(Product.variants)).order_by(Product.sku)
    )
    return [product_document(product) for product in products]


def product_document(product: Product) -> Document:
    in_stock = [f"{v.size} / {v.colour} ({v.stock} in stock)" for v in product.variants if v.stock > 0]
    sold_out = [f"{v.size} / {v.colour}" for v in product.variants if v.stock <= 0]
    lines = [
        f"# {product.name}",
        f"SKU: {product.sku}",
        f"Category: {product.category}",
        f"Price: ${product.price:.2f}",
        product.description,
        f"Materials: {product.materials}" if product.materials else "",
        f"Care: {product.care}" if product.care else "",
        *(f"{name}: {value}" for name, value in product.specs.items()),
        "Sizes and colours: " + ("; ".join(in_stock) if in_stock else "none in stock"),
        f"Out of stock: {'; '.join(sold_out)}" if sold_out else "",
    ]
    text = "\n".join(line for line in lines if line)
    return Document(
        f"product/{product.sku}", product.name, text, "product", {"category": product.category}
    )


def order_document(order: Order) -> Document:
    """An order as evidence for its own customer: status, dates, carrier, tracking, items."""
    items = "; ".join(
        f"{item.quantity} x {item.name} ({item.size}, {item.colour}) at ${item.unit_price:.2f}"
        for item in order.items
    )
    fields = [
        ("Order", order.number),
        ("Status", order.status),
        ("Placed", f"{order.placed_at:%Y-%m-%d}"),
        ("Shipped", f"{order.shipped_at:%Y-%m-%d}" if order.shipped_at else None),
        ("Delivered", f"{order.delivered_at:%Y-%m-%d}" if order.delivered_at else None),
        ("Estimated delivery", str(order.estimated_delivery) if order.estimated_delivery else None),
        ("Shipping method", order.shipping_method or None),
        ("Carrier", order.carrier),
        ("Tracking number", order.tracking_number),
        ("Items", items),
        ("Shipping cost", f"${order.shipping_cost:.2f}"),
        ("Discount", f"${order.discount:.2f}" if order.discount else None),
        ("Total", f"${order.total:.2f}"),
        ("Note", order.status_note),
    ]
    text = "\n".join(f"{name}: {value}" for name, value in fields if value)
    return Document(f"order/{order.number}", f"Your order {order.number}", text, "order")
