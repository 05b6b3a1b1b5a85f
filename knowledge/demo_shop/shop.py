"""The demo shop's numbers: every figure the policies state and the orders obey."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

SEED = 20261101
REF_DATE = date(2026, 11, 1)  # the demo's "today": every date in the data is before it
NOW = datetime(2026, 11, 1, 7, 30)
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "demo"


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
