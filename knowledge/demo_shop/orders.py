"""Demo orders in every status, with dates, carriers, tracking, money and notes that agree
with the shop's policies."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from knowledge.demo_shop.customers import FIRST_NAMES
from knowledge.demo_shop.shop import (
    NOW,
    REF_DATE,
    SHOP,
    IntlZone,
    Shop,
    Tier,
)

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
