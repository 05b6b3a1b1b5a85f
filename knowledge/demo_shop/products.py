"""The demo catalog: one product per (line, edition) of the curated lines, with stock."""

from __future__ import annotations

import random

from knowledge.demo_shop.catalog import CATEGORIES, Category, Edition, Line


def _weight(grams: int) -> str:
    return f"{grams:,} g" if grams < 1000 else f"{round(grams / 1000, 2):g} kg"


def _product(category: Category, line: Line, edition: Edition, sku: str, rng: random.Random) -> dict:
    price = edition.price if edition.price is not None else round(line.price * edition.price_factor)
    grams = edition.weight_g or int(round(line.weight_g * edition.weight_factor / 5) * 5)
    weight_label = "Weight (pair)" if category.code == "FTW" else "Weight"
    variants = []
    for size in edition.sizes:
        for colour in line.colours:
            # About one variant in eight is sold out, so stock questions have both answers.
            stock = 0 if rng.random() < 0.12 else rng.randint(1, 40)
            variants.append({"size": size, "colour": colour, "stock": stock})
    return {
        "sku": sku,
        "name": edition.name.format(line.name),
        "category": category.name,
        "price": round(float(price), 2),
        "description": f"{line.description} {edition.sentence}",
        "materials": line.materials,
        "care": line.care or category.care,
        "specs": {weight_label: _weight(grams), **line.specs, **edition.specs},
        "variants": variants,
    }


def build_products(rng: random.Random) -> list[dict]:
    """One product per (line, edition) of the curated catalog, with seeded stock levels."""
    products = []
    for category in CATEGORIES:
        editions = [(line, edition) for line in category.lines for edition in line.editions]
        for number, (line, edition) in enumerate(editions, start=1):
            products.append(_product(category, line, edition, f"RO-{category.code}-{number:04d}", rng))
    names = [p["name"] for p in products]
    assert len(set(names)) == len(names), "two products share a name"
    # The design doc's example question is "does the Trailhead jacket come in XL?": make it yes.
    trailhead = next(p for p in products if p["name"] == "Men's Trailhead Rain Jacket")
    xl = [v for v in trailhead["variants"] if v["size"] == "XL"]
    if not any(v["stock"] for v in xl):
        xl[0]["stock"] = 7
    return products
