"""Generate the demo shop, Ridgeline Outfitters: policies, FAQ, products, customers, orders.

    python -m knowledge.demo_shop [--out knowledge/demo] [--seed 20261101]

Writes docs/policies/<slug>.md, docs/faq.md and store/{products,customers,orders}.json
under --out. Everything comes from a seeded random.Random and a fixed reference date
(REF_DATE, the demo's "today"), so running it twice gives byte-identical files. The shop's
numbers (return window, rates, tiers) live in Shop below and feed both the prose and the
orders, so a shipping charge on an order always matches the shipping policy.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from knowledge.demo_shop.customers import build_customers, finish_customers
from knowledge.demo_shop.orders import (
    apply_loyalty_and_money,
    build_orders,
    finish_orders,
)
from knowledge.demo_shop.products import build_products
from knowledge.demo_shop.shop import (
    DEFAULT_OUT,
    SEED,
    SHOP,
    Shop,
)
from knowledge.demo_shop.text import faq_entries, faq_markdown, policy_documents


def check_documents(shop: Shop, docs: dict[str, str]) -> None:
    """Fail loudly if a policy page drifts out of the agreed shape."""
    for slug, text in docs.items():
        words = len(re.findall(r"\w+", text))
        if not 300 <= words <= 900:
            raise ValueError(f"policies/{slug}.md has {words} words; keep it between 300 and 900")
        if len(re.findall(r"^# ", text, flags=re.MULTILINE)) != 1:
            raise ValueError(f"policies/{slug}.md must have exactly one H1")
    if not 30 <= len(faq_entries(shop)) <= 45:
        raise ValueError("the FAQ must have 30-45 entries")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def _json(records) -> str:
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def generate(out: Path, seed: int = SEED, shop: Shop = SHOP) -> dict[str, int]:
    """Write every demo file under out; return counts for the summary."""
    rng = random.Random(seed)
    docs = policy_documents(shop)
    check_documents(shop, docs)
    for slug, text in docs.items():
        _write(out / "docs" / "policies" / f"{slug}.md", text)
    _write(out / "docs" / "faq.md", faq_markdown(shop))

    products = build_products(rng)
    customers = build_customers(rng)
    orders = build_orders(rng, shop, customers, products)
    apply_loyalty_and_money(rng, shop, orders)
    records = finish_orders(rng, shop, orders)
    finish_customers(rng, customers, records)
    _write(out / "store" / "products.json", _json(products))
    _write(out / "store" / "customers.json", _json(customers))
    _write(out / "store" / "orders.json", _json(records))

    counts = {"policy files": len(docs), "faq entries": len(faq_entries(shop)),
              "products": len(products), "categories": len({p["category"] for p in products}),
              "customers": len(customers), "orders": len(records)}
    for status in ("processing", "shipped", "delayed", "delivered", "returned", "refunded", "cancelled"):
        counts[f"  {status}"] = sum(r["status"] == status for r in records)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write docs/ and store/ into")
    parser.add_argument("--seed", type=int, default=SEED, help="change it to get a different but equally valid shop")
    args = parser.parse_args()
    counts = generate(args.out, args.seed)
    print(f"wrote {args.out}")
    for name, n in counts.items():
        print(f"  {name}: {n}")


if __name__ == "__main__":
    main()
