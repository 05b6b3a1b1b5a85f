"""Documents: what the shop knows, read from folders of files and from the SQL store.

A document has a stable id (`policies/returns`, `product/RO-JKT-0001`, `order/A1042`) that
sources, evals and the fine-tuning data all refer to.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shopcore.store.models import Order, Product


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str
    doc_type: str  # policies, faq, product, order, ...: used for filters and citations
    metadata: dict = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """A fingerprint of everything chunking reads, so a rebuild can tell what changed."""
        content = json.dumps([self.title, self.text, self.doc_type, self.metadata], sort_keys=True)
        return hashlib.sha256(content.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def read_folder(folder: Path) -> tuple[list[Document], list[Skipped]]:
    """Every readable document under folder, and what was skipped with the reason."""
    from knowledge.readers import Unreadable, read_file

    documents, skipped = [], []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue  # .git, .DS_Store and editors' swap files are not shop content
        try:
            found, bad_records = read_file(path, relative)
        except Unreadable as exc:
            skipped.append(Skipped(relative.as_posix(), str(exc)))
            continue
        except OSError as exc:
            skipped.append(Skipped(relative.as_posix(), f"cannot be read ({exc.strerror})"))
            continue
        documents += found
        skipped += [Skipped(where, reason) for where, reason in bad_records]
    return documents, skipped


def catalog_documents(session: Session) -> list[Document]:
    """One document per product in the store, fields rendered as readable text."""
    products = session.scalars(
        select(Product).options(selectinload(Product.variants)).order_by(Product.sku)
    )
    return [product_document(product) for product in products]


def product_document(product: Product) -> Document:
    """A product as one short document (one product, one chunk): sizes that share their
    in-stock colours are listed together."""
    colours: dict[str, list[str]] = {}
    for variant in product.variants:
        if variant.stock > 0:
            colours.setdefault(variant.size, []).append(variant.colour)
    sizes_by_colours: dict[tuple[str, ...], list[str]] = {}  # sizes that share their colours
    for size, available in colours.items():
        sizes_by_colours.setdefault(tuple(available), []).append(size)
    in_stock = "; ".join(f"{', '.join(sizes)} ({', '.join(c)})" for c, sizes in sizes_by_colours.items())
    sold_out = [size for size in dict.fromkeys(v.size for v in product.variants) if size not in colours]
    lines = [
        f"# {product.name}",
        f"SKU: {product.sku}",
        f"Category: {product.category}",
        f"Price: ${product.price:.2f}",
        product.description,
        f"Materials: {product.materials}" if product.materials else "",
        f"Care: {product.care}" if product.care else "",
        *(f"{name}: {value}" for name, value in product.specs.items()),
        f"In stock: {in_stock or 'nothing'}",
        f"Sold out sizes: {', '.join(sold_out)}" if sold_out else "",
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
