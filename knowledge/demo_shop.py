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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from knowledge.demo_shop_catalog import CATEGORIES, Category, Edition, Line
from knowledge.demo_shop_text import faq_entries, faq_markdown, policy_documents

SEED = 20261101
REF_DATE = date(2026, 11, 1)  # the demo's "today": every date in the data is before it
NOW = datetime(2026, 11, 1, 7, 30)
DEFAULT_OUT = Path(__file__).parent / "demo"


@dataclass(frozen=True)
class UsRate:
    method: str
    carriers: str
    lower48: float
    ak_hi: float
    days: tuple[int, int]  # business days in transit after dispatch, lower 48
    ak_hi_days: tuple[int, int]


@dataclass(frozen=True)
class IntlZone:
    name: str
    countries: dict  # ISO code -> country name
    standard: float
    express: float
    standard_days: tuple[int, int]
    express_days: tuple[int, int]


@dataclass(frozen=True)
class Tier:
    name: str
    min_spend: float  # spend in the last 12 months that reaches this tier
    points_per_dollar: float
    perks: str


@dataclass(frozen=True)
class Shop:
    """Every number the policies state and the orders obey."""

    name: str = "Ridgeline Outfitters"
    domain: str = "ridgeline-outfitters.example"
    city: str = "Golden, Colorado"
    founded_year: int = 2011
    street_address: str = "4100 Table Mountain Parkway, Golden, CO 80403"
    returns_address: str = "Ridgeline Outfitters Returns, 4100 Table Mountain Parkway, Golden, CO 80403"
    support_email: str = "help@ridgeline-outfitters.example"
    privacy_email: str = "privacy@ridgeline-outfitters.example"
    warranty_email: str = "warranty@ridgeline-outfitters.example"
    phone: str = "1-800-555-0142"
    hours_weekday: str = "Monday to Friday, 7 am to 7 pm Mountain Time"
    hours_weekend: str = "Saturday and Sunday, 9 am to 5 pm Mountain Time"
    return_days: int = 30
    return_label_fee: float = 6.95
    label_valid_days: int = 14
    inspection_days: int = 3  # business days from a return's arrival to the refund
    processing_days: str = "1–2"
    overnight_cutoff: str = "12 pm Mountain Time"
    free_shipping_threshold: float = 99.0
    signature_threshold: float = 500.0
    us_rates: tuple[UsRate, ...] = (
        UsRate("Standard", "USPS or UPS Ground", 7.95, 14.95, (3, 7), (5, 10)),
        UsRate("Expedited", "UPS 2nd Day Air or FedEx 2Day", 16.95, 29.95, (2, 2), (2, 2)),
        UsRate("Overnight", "FedEx Priority Overnight or UPS Next Day Air", 29.95, 49.95, (1, 1), (1, 1)),
    )
    territory_rate: float = 14.95
    territory_days: tuple[int, int] = (7, 14)
    intl_zones: tuple[IntlZone, ...] = (
        IntlZone("Canada", {"CA": "Canada"}, 19.95, 39.95, (6, 10), (2, 4)),
        IntlZone("Europe", {"GB": "United Kingdom", "IE": "Ireland", "DE": "Germany", "FR": "France",
                            "NL": "Netherlands", "BE": "Belgium", "SE": "Sweden", "DK": "Denmark",
                            "NO": "Norway", "CH": "Switzerland", "AT": "Austria", "IT": "Italy",
                            "ES": "Spain"}, 24.95, 49.95, (7, 14), (3, 5)),
        IntlZone("Asia-Pacific", {"AU": "Australia", "NZ": "New Zealand", "JP": "Japan",
                                  "SG": "Singapore", "KR": "South Korea"}, 29.95, 59.95, (8, 16), (3, 6)),
    )
    intl_free_threshold: float = 250.0
    change_window_minutes: int = 60
    damage_report_days: int = 7
    not_received_report_days: int = 14
    lost_domestic_days: int = 7  # business days without a tracking update
    lost_intl_days: int = 15
    price_adjustment_days: int = 14
    tiers: tuple[Tier, ...] = (
        Tier("Trail", 0.0, 1.0, "Birthday bonus, members-only offers"),
        Tier("Summit", 500.0, 1.25, "Free return shipping, instant exchanges, 24-hour early access to sales"),
        Tier("Peak", 1500.0, 1.5, "Everything in Summit, plus free labor on up to 2 repairs a year"),
    )
    points_per_reward: int = 500
    reward_value: float = 10.0
    max_reward_per_order: float = 100.0
    points_expiry_months: int = 12
    birthday_points: int = 250
    review_points: int = 50
    gift_wrap_fee: float = 5.0
    student_discount_pct: int = 15
    klarna_min: float = 35.0
    klarna_max: float = 1000.0


SHOP = Shop()

# ---------------------------------------------------------------- products


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


# ---------------------------------------------------------------- customers

FIRST_NAMES = (
    "Avery", "Jordan", "Maya", "Ethan", "Olivia", "Liam", "Sofia", "Noah", "Emma", "Lucas",
    "Chloe", "Mateo", "Priya", "Daniel", "Hannah", "Caleb", "Zoe", "Owen", "Grace", "Isaac",
    "Leah", "Wyatt", "Nora", "Elijah", "Aiko", "Samuel", "Ruby", "Diego", "Ingrid", "Felix",
    "Amara", "Henry", "Lena", "Theo", "Camila", "Jonah", "Freya", "Marcus", "Tessa", "Rohan",
    "Clara", "Miles", "Hazel", "Ezra", "Juniper", "Declan", "Naomi", "Silas", "Willa", "Kai",
)
LAST_NAMES = (
    "Anderson", "Brooks", "Chen", "Dawson", "Ellis", "Fischer", "Garcia", "Hughes", "Ito",
    "Johansson", "Kowalski", "Larsen", "Martinez", "Nguyen", "O'Brien", "Patel", "Quinn",
    "Rivera", "Schmidt", "Thompson", "Underwood", "Vasquez", "Walsh", "Young", "Zimmerman",
    "Bennett", "Carter", "Delgado", "Foster", "Hayes", "Kim", "Lindqvist", "Morgan", "Novak",
    "Park", "Reyes", "Sullivan", "Tanaka", "Weber", "Whitfield", "MacLeod", "Dubois", "Rossi",
)
US_STATES = {  # state -> weight; outdoor-heavy states sell more
    "Colorado": 12, "California": 12, "Washington": 7, "Oregon": 6, "Utah": 5, "New York": 6,
    "Texas": 5, "Massachusetts": 4, "Minnesota": 4, "Montana": 3, "Idaho": 2, "Arizona": 4,
    "North Carolina": 4, "Vermont": 2, "Illinois": 4, "Pennsylvania": 3, "Virginia": 3,
    "Michigan": 3, "Wisconsin": 2, "New Mexico": 2, "Wyoming": 1, "Maine": 2, "Florida": 2,
    "Tennessee": 2, "Alaska": 3, "Hawaii": 2,
}
FOREIGN = (  # (country code, region, weight)
    ("CA", "British Columbia", 4), ("CA", "Alberta", 3), ("CA", "Ontario", 3), ("CA", "Quebec", 1),
    ("GB", "United Kingdom", 3), ("DE", "Germany", 2), ("NL", "Netherlands", 1), ("SE", "Sweden", 1),
    ("IE", "Ireland", 1), ("CH", "Switzerland", 1), ("AU", "New South Wales", 2),
    ("AU", "Victoria", 1), ("NZ", "New Zealand", 1), ("JP", "Japan", 1),
)
N_CUSTOMERS = 140


def build_customers(rng: random.Random) -> list[dict]:
    """Customers with names, unique emails and home regions; tiers and dates are set later."""
    pairs = rng.sample([(f, l) for f in FIRST_NAMES for l in LAST_NAMES], N_CUSTOMERS)
    states, state_weights = zip(*US_STATES.items())
    customers, emails = [], set()
    for cid, (first, last) in enumerate(pairs, start=1):
        if rng.random() < 0.82:
            country, region = "US", rng.choices(states, state_weights)[0]
        else:
            country, region, _ = rng.choices(FOREIGN, [w for *_, w in FOREIGN])[0]
        domain = "example.com" if rng.random() < 0.7 else "example.org"
        local = f"{first}.{last}".lower().replace("'", "")
        email, n = f"{local}@{domain}", 2
        while email in emails:  # same name, different person
            email, n = f"{local}{n}@{domain}", n + 1
        emails.add(email)
        customers.append({"id": cid, "name": f"{first} {last}", "email": email, "country": country,
                          "region": region, "created_at": None, "loyalty_tier": None, "loyalty_points": 0})
    return customers


# ---------------------------------------------------------------- orders

STATUS_COUNTS = {"processing": 28, "shipped": 42, "delayed": 27, "returned": 27, "refunded": 34,
                 "cancelled": 30}  # every order left over is "delivered"
PAYMENTS = ("Visa card", "Visa card", "Mastercard", "American Express card", "Discover card",
            "PayPal account", "PayPal account", "Apple Pay card", "Klarna payment plan")
DELAY_REASONS = {
    "UPS": ("Weather delay at the UPS Worldport hub in Louisville, KY",
            "Carrier backlog at the UPS facility in Commerce City, CO",
            "Delivery attempted: UPS needs an apartment or unit number to complete delivery"),
    "USPS": ("Weather delay at the USPS Denver distribution center",
             "Parcel missed its connection at the USPS Salt Lake City processing center",
             "Carrier backlog at the USPS Seattle distribution center"),
    "FedEx": ("Weather delay at the FedEx Memphis hub",
              "Mechanical delay on a FedEx flight out of Denver",
              "Delivery attempted: FedEx needs an apartment or unit number to complete delivery"),
    "DHL": ("Held at customs in {country} awaiting clearance",
            "Awaiting payment of import duties by the recipient before customs release",
            "Weather delay at the DHL hub in Cincinnati, KY"),
}
RETURN_REASONS = (("wrong size", False), ("changed mind", False), ("didn't suit", False),
                  ("arrived defective", True), ("wrong item sent", True))


def add_business_days(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _zone(shop: Shop, customer: dict) -> tuple[str, IntlZone | None]:
    if customer["country"] == "US":
        return ("ak_hi" if customer["region"] in ("Alaska", "Hawaii") else "lower48"), None
    zone = next(z for z in shop.intl_zones if customer["country"] in z.countries)
    return zone.name, zone


def _transit(shop: Shop, method: str, zone_key: str, zone: IntlZone | None) -> tuple[int, int]:
    if zone is not None:
        return zone.express_days if method == "International Express" else zone.standard_days
    rate = next(r for r in shop.us_rates if r.method == method)
    return rate.ak_hi_days if zone_key == "ak_hi" else rate.days


def shipping_cost(shop: Shop, method: str, zone_key: str, zone: IntlZone | None, merchandise: float) -> float:
    """What the shipping policy charges for this method, destination and merchandise value."""
    if zone is not None:
        if method == "International Express":
            return zone.express
        return 0.0 if merchandise >= shop.intl_free_threshold else zone.standard
    rate = next(r for r in shop.us_rates if r.method == method)
    if zone_key == "ak_hi":
        return rate.ak_hi
    if method == "Standard" and merchandise >= shop.free_shipping_threshold:
        return 0.0
    return rate.lower48


def _tracking(carrier: str, method: str, rng: random.Random) -> str:
    digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    if carrier == "UPS":
        account = "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(6))
        service = {"Standard": "03", "Expedited": "02", "Overnight": "01"}[method]
        return f"1Z{account}{service}{digits(8)}"
    if carrier == "USPS":
        return f"9400{rng.choice('123')}{digits(17)}"
    if carrier == "FedEx":
        return f"7{digits(11)}"
    return digits(10)  # DHL Express waybill


def _pick_items(rng: random.Random, products: list[dict], restricted_ok: bool, in_stock: bool) -> list[dict]:
    """1-4 catalog lines; fuel and lithium headlamps only where the policies let them ship."""
    pool = [p for p in products if restricted_ok or not (
        p["name"].startswith("Isobutane") or "Rechargeable" in p["name"])]
    count = rng.choices((1, 2, 3, 4), (50, 30, 15, 5))[0]
    items = []
    for product in rng.sample(pool, count):
        variants = [v for v in product["variants"] if v["stock"] > 0 or not in_stock] or product["variants"]
        variant = rng.choice(variants)
        small = product["price"] < 30
        items.append({"sku": product["sku"], "name": product["name"], "size": variant["size"],
                      "colour": variant["colour"], "quantity": rng.choice((1, 1, 2, 3)) if small else 1,
                      "unit_price": product["price"]})
    return items


def _at(day: date, rng: random.Random, first_hour: int, last_hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randint(first_hour, last_hour), rng.randint(0, 59))


def _dates(status: str, rng: random.Random, transit: tuple[int, int], overnight: bool) -> dict:
    """Placed/shipped/delivered/estimated dates that agree with the status and REF_DATE."""
    lo, hi = transit
    days_back = {"processing": (0, 1), "shipped": (2, 12), "delayed": (5, 30), "delivered": (4, 600),
                 "returned": (8, 45), "refunded": (12, 600), "cancelled": (1, 500)}[status]
    while True:  # rejection sampling: draw a history, keep it if it fits the status
        placed = NOW - timedelta(days=rng.randint(*days_back), hours=rng.randint(2, 20), minutes=rng.randint(0, 59))
        same_day = overnight and placed.weekday() < 5 and placed.hour < 12
        ship_day = placed.date() if same_day else add_business_days(placed.date(), rng.choice((1, 1, 2)))
        out = {"placed": placed, "ship_day": ship_day, "estimated": add_business_days(ship_day, hi),
               "delivered": None, "received": None, "refund_day": None, "lost": False}
        if status in ("processing", "cancelled"):
            if status == "processing" and ship_day < REF_DATE:
                continue
            return out
        if ship_day >= REF_DATE:
            continue
        if status == "shipped":
            if add_business_days(ship_day, lo) >= REF_DATE:
                return out
            continue
        if status == "delayed":
            if REF_DATE - timedelta(days=12) <= out["estimated"] < REF_DATE:
                return out
            continue
        late = 1 if rng.random() < 0.08 else 0
        out["delivered"] = add_business_days(ship_day, rng.randint(lo, hi) + late)
        if out["delivered"] >= REF_DATE:
            continue
        if status == "delivered":
            return out
        if status == "refunded" and rng.random() < 0.12:  # lost in transit, refunded in full
            out.update(delivered=None, lost=True,
                       refund_day=add_business_days(out["estimated"], 10 + rng.randint(1, 4)))
            if out["refund_day"] < REF_DATE:
                return out
            continue
        received = out["delivered"] + timedelta(days=rng.randint(5, SHOP.return_days))
        received = add_business_days(received - timedelta(days=1), 1)  # returns arrive on business days
        out["received"] = received
        if status == "returned":  # refund still pending: arrived within the inspection time
            if add_business_days(received, SHOP.inspection_days) >= REF_DATE and received < REF_DATE:
                return out
            continue
        out["refund_day"] = add_business_days(received, rng.randint(1, SHOP.inspection_days))
        if out["refund_day"] < REF_DATE:
            return out


def _order_counts(rng: random.Random, n_customers: int) -> list[int]:
    """Orders per customer: most 1-6, a few loyal customers with many, a few with none."""
    counts = rng.choices((1, 2, 3, 4, 5, 6), (30, 25, 18, 12, 8, 7), k=n_customers)
    ids = rng.sample(range(n_customers), 14)
    for i in ids[:8]:
        counts[i] = 0
    for i in ids[8:]:
        counts[i] = rng.randint(9, 15)
    return counts


def build_orders(rng: random.Random, shop: Shop, customers: list[dict], products: list[dict]) -> list[dict]:
    """Orders with items, dates, carriers and tracking; money and notes are filled in later."""
    owners = [c for c, n in zip(customers, _order_counts(rng, len(customers))) for _ in range(n)]
    statuses = [s for s, n in STATUS_COUNTS.items() for _ in range(n)]
    statuses += ["delivered"] * (len(owners) - len(statuses))
    rng.shuffle(statuses)
    orders = []
    for customer, status in zip(owners, statuses):
        zone_key, zone = _zone(shop, customer)
        # Fuel canisters travel by ground to the lower 48 only; lithium headlamps stay in the US.
        items = _pick_items(rng, products, restricted_ok=zone_key == "lower48",
                            in_stock=status in ("processing", "shipped"))
        has_fuel = any(i["name"].startswith("Isobutane") for i in items)
        if zone is not None:
            method = rng.choices(("International Standard", "International Express"), (75, 25))[0]
            carrier = "DHL"
        else:
            method = "Standard" if has_fuel else rng.choices(("Standard", "Expedited", "Overnight"), (70, 20, 10))[0]
            carrier = {"Standard": "USPS" if zone_key == "ak_hi" else rng.choice(("USPS", "UPS", "UPS")),
                       "Expedited": rng.choice(("UPS", "FedEx")),
                       "Overnight": rng.choice(("FedEx", "UPS"))}[method]
        when = _dates(status, rng, _transit(shop, method, zone_key, zone), method == "Overnight")
        shipped = status not in ("processing", "cancelled")
        orders.append({
            "customer": customer, "zone_key": zone_key, "zone": zone, "status": status, "when": when,
            "items": items, "method": method, "carrier": carrier if shipped else None,
            "tracking": _tracking(carrier, method, rng) if shipped else None,
        })
    return orders


def _spend(history: list[tuple[datetime, float]], t: datetime) -> float:
    return sum(amount for when, amount in history if t - timedelta(days=365) < when <= t)


def _tier(shop: Shop, spend: float) -> Tier:
    return [t for t in shop.tiers if spend >= t.min_spend][-1]


def apply_loyalty_and_money(rng: random.Random, shop: Shop, orders: list[dict]) -> None:
    """Walk each customer's history in time order: rewards redeemed, shipping, totals, points.

    Points are earned when an order ships, at the tier the customer holds then, and expire
    after 12 months; orders later returned or refunded earn nothing (their points are taken
    back). Rewards are redeemed at checkout in blocks of 500 points = $10.
    """
    by_customer: dict[int, list[dict]] = {}
    for order in orders:
        by_customer.setdefault(order["customer"]["id"], []).append(order)
    for cid in sorted(by_customer):
        events = []
        for order in by_customer[cid]:
            events.append((order["when"]["placed"], 0, order))
            if order["status"] in ("shipped", "delayed", "delivered"):
                ship = datetime.combine(order["when"]["ship_day"], datetime.min.time()) + timedelta(hours=16)
                events.append((ship, 1, order))
        events.sort(key=lambda e: (e[0], e[1], e[2]["tracking"] or ""))
        lots: list[list] = []  # [earned_at, points left], oldest first
        spent: list[tuple[datetime, float]] = []
        for when, kind, order in events:
            lots = [lot for lot in lots if when < lot[0] + timedelta(days=365)]
            subtotal = round(sum(i["unit_price"] * i["quantity"] for i in order["items"]), 2)
            if kind == 0:
                balance = sum(lot[1] for lot in lots)
                blocks = 0
                if order["status"] != "cancelled" and balance >= shop.points_per_reward and subtotal >= 50 and rng.random() < 0.4:
                    blocks = min(balance // shop.points_per_reward, 2,
                                 int(shop.max_reward_per_order // shop.reward_value))
                to_redeem = blocks * shop.points_per_reward
                for lot in lots:  # oldest points first, so fewer expire
                    used = min(lot[1], to_redeem)
                    lot[1], to_redeem = lot[1] - used, to_redeem - used
                discount = round(blocks * shop.reward_value, 2)
                merchandise = round(subtotal - discount, 2)
                ship = shipping_cost(shop, order["method"], order["zone_key"], order["zone"], merchandise)
                order.update(subtotal=subtotal, discount=discount, shipping_cost=ship,
                             total=round(merchandise + ship, 2),
                             tier_at_order=_tier(shop, _spend(spent, when)).name)
            else:
                merchandise = subtotal - order["discount"]
                rate = _tier(shop, _spend(spent, when)).points_per_dollar
                spent.append((when, merchandise))
                lots.append([when, int(merchandise * rate)])
        lots = [lot for lot in lots if NOW < lot[0] + timedelta(days=365)]
        customer = by_customer[cid][0]["customer"]
        customer["loyalty_points"] = sum(lot[1] for lot in lots)
        customer["loyalty_tier"] = _tier(shop, _spend(spent, NOW)).name


def _note(rng: random.Random, shop: Shop, order: dict) -> str | None:
    """The status note a support agent would read: delay reason, return, refund, cancellation."""
    status, when, carrier = order["status"], order["when"], order["carrier"]
    if status == "delayed":
        reason = rng.choice(DELAY_REASONS[carrier])
        country = next((n for c, n in (order["zone"].countries.items() if order["zone"] else []) if c == order["customer"]["country"]), "")
        last_scan = max(when["ship_day"], REF_DATE - timedelta(days=rng.randint(1, 4)))
        return f"{reason.format(country=country)}. Last tracking update {last_scan.isoformat()}."
    if status == "shipped" and order["zone"] is not None:
        return "Shipped duties unpaid: DHL will collect any import duties and taxes before delivery."
    if status == "delivered" and order["total"] >= shop.signature_threshold:
        first, last = rng.choice(FIRST_NAMES), order["customer"]["name"].split()[-1]
        return f"Signature required (order of ${shop.signature_threshold:.0f} or more); signed for by {first[0]}. {last.upper()}."
    if status == "returned":
        n = len(order["items"])
        what = f"all {n} items" if n > 1 else "1 item"
        return (f"Return of {what} received at our Golden, CO returns center on {when['received'].isoformat()}; "
                f"refund pending inspection (up to {shop.inspection_days} business days).")
    if status == "refunded":
        payment = rng.choice(PAYMENTS)
        if when["lost"]:
            return (f"Parcel lost in transit ({carrier} trace found no delivery). Full refund of "
                    f"${order['total']:.2f} including shipping issued to the original {payment} on "
                    f"{when['refund_day'].isoformat()}.")
        items = order["items"]
        returned = items if len(items) == 1 or rng.random() < 0.65 else rng.sample(items, rng.randint(1, len(items) - 1))
        reason, our_fault = rng.choice(RETURN_REASONS)
        value = sum(i["unit_price"] * i["quantity"] for i in returned)
        share = order["discount"] * value / order["subtotal"] if order["subtotal"] else 0.0
        fee = 0.0 if our_fault or order["tier_at_order"] != "Trail" else shop.return_label_fee
        amount = round(value - share - fee + (order["shipping_cost"] if our_fault else 0.0), 2)
        detail = f"{len(returned)} of {len(items)} items returned" if len(returned) < len(items) else "full return"
        extra = ("; original shipping refunded" if our_fault and order["shipping_cost"] else
                 f"; ${shop.return_label_fee:.2f} return label fee deducted" if fee else "")
        return (f"Refund of ${amount:.2f} issued to the original {payment} on {when['refund_day'].isoformat()} "
                f"({detail}, reason: {reason}; return received {when['received'].isoformat()}{extra}).")
    if status == "cancelled":
        item = rng.choice(order["items"])["name"]
        return rng.choices((
            f"Cancelled by the customer within the {shop.change_window_minutes}-minute change window. No payment was taken.",
            "Cancelled at the customer's request before it was picked. No payment was taken.",
            "Cancelled by us: the payment could not be authorized and wasn't updated within 3 days. No payment was taken.",
            f"Cancelled by us: the {item} sold out before it could be picked. No payment was taken.",
            "Cancelled by us: the shipping address could not be verified. No payment was taken.",
        ), (35, 25, 15, 15, 10))[0]
    return None


def finish_orders(rng: random.Random, shop: Shop, orders: list[dict]) -> list[dict]:
    """Number the orders by date (A1001 up), fill notes, and return the JSON records."""
    orders.sort(key=lambda o: (o["when"]["placed"], o["customer"]["id"]))
    records = []
    for i, order in enumerate(orders):
        w, status = order["when"], order["status"]
        shipped = status not in ("processing", "cancelled")
        records.append({
            "number": f"A{1001 + i}",
            "customer_id": order["customer"]["id"],
            "status": status,
            "placed_at": w["placed"].isoformat(),
            "shipped_at": _at(w["ship_day"], rng, 14, 18).isoformat() if shipped else None,
            "delivered_at": _at(w["delivered"], rng, 9, 19).isoformat() if w["delivered"] else None,
            "estimated_delivery": w["estimated"].isoformat() if status != "cancelled" else None,
            "shipping_method": order["method"],
            "carrier": order["carrier"],
            "tracking_number": order["tracking"],
            "shipping_cost": order["shipping_cost"],
            "discount": order["discount"],
            "total": order["total"],
            "items": order["items"],
            "status_note": _note(rng, shop, order),
        })
    # The design doc's example is "where is my order A1042?": make A1042 an order on its way,
    # preferably one with a jacket in it. Numbers are otherwise in date order.
    shipped = [r for r in records if r["status"] == "shipped" and r["carrier"] != "DHL"]
    target = next((r for r in shipped if any(i["sku"].startswith("RO-JKT") for i in r["items"])), shipped[0])
    current = next(r for r in records if r["number"] == "A1042")
    target["number"], current["number"] = "A1042", target["number"]
    records.sort(key=lambda r: int(r["number"][1:]))
    return records


def finish_customers(rng: random.Random, customers: list[dict], orders: list[dict]) -> None:
    """Account creation dates before each customer's first order; tier for those with none."""
    first_order: dict[int, datetime] = {}
    for order in orders:
        placed = datetime.fromisoformat(order["placed_at"])
        cid = order["customer_id"]
        first_order[cid] = min(placed, first_order.get(cid, placed))
    for customer in customers:
        first = first_order.get(customer["id"])
        if first is None:
            created = REF_DATE - timedelta(days=rng.randint(20, 900))
        else:
            created = max(date(2019, 3, 1), first.date() - timedelta(days=rng.randint(0, 300)))
        customer["created_at"] = created.isoformat()
        customer["loyalty_tier"] = customer["loyalty_tier"] or "Trail"


# ---------------------------------------------------------------- writing


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
