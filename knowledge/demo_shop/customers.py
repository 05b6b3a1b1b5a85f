"""Demo customers: names, unique emails, home regions; tiers and dates follow their orders."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from knowledge.demo_shop.shop import (
    REF_DATE,
)

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
