"""The shop profile: one YAML file that describes one shop (`CHATBOT_SHOP`).

    name: Kettle & Leaf
    tone: warm, calm and knowledgeable
    languages: [en]                     # the first is the language of the documents
    hours: {timezone: Europe/London, mon-fri: "09:00-17:30", sat: "10:00-14:00"}
    documents: [docs]                   # folders, relative to this file
    store: store                        # products, customers, orders (.csv or .json); omit for none
    examples: ["How long does delivery take?"]

Everything that describes a shop reads it: setup (what it loads and indexes), the chat page
and widget (name, examples, greeting), the prompt (name, tone, languages), offers and risk
(their policy and cue files) and the fine-tuning data builder. The demo shop is only the
default profile (knowledge/demo/shop.yaml); another profile shares nothing with it, and its
data lives in its own folder under CHATBOT_HOME (`Settings.shop_dir`).
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_PROFILE = REPO_ROOT / "knowledge" / "demo" / "shop.yaml"
DEFAULT_OFFER_POLICY = REPO_ROOT / "chatbot" / "offers" / "policy.yaml"
DEFAULT_RISK_CUES = REPO_ROOT / "chatbot" / "risk" / "cues.yaml"
# `adapters: shipped` in a profile: the desk's ready-made answering adapter. It was trained on
# the demo shop's documents, but what it learned is the skill (quote the evidence, cite it, hand
# off when it is silent): on a shop it never saw it answers better than the base model and the
# fact guard stops none of the demo's facts (reports/second_shop.md).
SHIPPED_ADAPTERS = REPO_ROOT / "knowledge" / "demo" / "adapters"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class ProfileError(Exception):
    """The shop profile is missing or wrong; the message names the file and the field to fix."""


class Hours(BaseModel):
    """When people answer: a time zone and opening spans per weekday ("mon-fri": "09:00-17:00").

    A day that is not named is closed. Keys may be one day ("sat") or a range ("mon-fri").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    timezone: str = "UTC"
    days: dict[str, tuple[time, time]] = Field(default_factory=dict)

    @classmethod
    def parse(cls, raw: dict) -> Hours:
        if not isinstance(raw, dict):
            raise ValueError("must be a mapping such as {timezone: Europe/London, mon-fri: '09:00-17:00'}")
        raw = dict(raw)
        zone = str(raw.pop("timezone", "UTC"))
        days: dict[str, tuple[time, time]] = {}
        for key, span in raw.items():
            for day in _day_range(str(key).lower()):
                days[day] = _span(str(span), key)
        return cls(timezone=zone, days=days)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r} (use an IANA name such as Europe/London)") from None
        return zone

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone())
        span = self.days.get(DAYS[local.weekday()])
        return span is not None and span[0] <= local.time() < span[1]

    def next_opening(self, moment: datetime) -> datetime | None:
        """The next time people answer at or after moment (in the shop's zone); None if never."""
        zone = self.zone()
        local = moment.astimezone(zone)
        if self.is_open(local):
            return local
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            span = self.days.get(DAYS[day.weekday()])
            if span is None:
                continue
            opening = datetime.combine(day, span[0], tzinfo=zone)
            if opening > local:
                return opening
        return None


def _day_range(key: str) -> list[str]:
    first, _, last = key.partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise ValueError(f"{key!r} is not a day or a range of days (mon, tue, ... sun; mon-fri)")
    start, end = DAYS.index(first), DAYS.index(last or first)
    if end < start:
        raise ValueError(f"{key!r} runs backwards")
    return list(DAYS[start:end + 1])


def _span(text: str, key) -> tuple[time, time]:
    found = SPAN.match(text.strip())
    if not found:
        raise ValueError(f"{key}: {text!r} must look like '09:00-17:30'")
    h1, m1, h2, m2 = (int(part) for part in found.groups())
    try:
        opens, closes = time(h1, m1), time(h2, m2) if (h2, m2) != (24, 0) else time.max
    except ValueError:
        raise ValueError(f"{key}: {text!r} is not a time of day") from None
    if closes <= opens:
        raise ValueError(f"{key}: {text!r} closes before it opens")
    return opens, closes


class Sync(BaseModel):
    """A scheduled import from the shop's own SQL database: one query per kind of record.

    Each query returns the columns of the CSV import format (docs/shop-data.md); order items
    come from their own query, joined to orders by `number`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str
    every_minutes: float = Field(15, gt=0, le=7 * 24 * 60)
    products: str | None = None
    variants: str | None = None
    customers: str | None = None
    orders: str | None = None
    order_items: str | None = None


class ShopProfile(BaseModel):
    """What describes one shop. Paths are relative to the profile's folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: Path = Field(exclude=True)
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    tone: str = "friendly, concise and practical"
    description: str = ""
    greeting: str = ""
    languages: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]] = Field(["en"], min_length=1)
    hours: Hours | None = None
    documents: list[Path] = Field(default_factory=lambda: [Path("docs")])
    store: Path | None = None
    sync: Sync | None = None
    examples: list[str] = Field(default_factory=list, max_length=12)
    questions: Path | None = None
    offer_policy: Path = DEFAULT_OFFER_POLICY
    risk_cues: Path = DEFAULT_RISK_CUES
    adapters: Path | None = None

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, raw):
        return None if raw is None or isinstance(raw, Hours) else Hours.parse(raw)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def slug(self) -> str:
        """The shop's name as a folder name: its data lives in CHATBOT_HOME/shops/<slug>."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "shop"

    @property
    def is_demo(self) -> bool:
        return self.path.resolve() == DEMO_PROFILE.resolve()

    def resolve(self, relative: Path | None) -> Path | None:
        return None if relative is None else (self.folder / relative).resolve()

    @property
    def adapter_source(self) -> Path | None:
        """Where setup finds ready-made adapters: the profile's folder, the desk's (`shipped`), or none."""
        return SHIPPED_ADAPTERS if str(self.adapters) == "shipped" else self.resolve(self.adapters)

    @property
    def document_dirs(self) -> list[Path]:
        return [self.resolve(folder) for folder in self.documents]

    @property
    def greeting_text(self) -> str:
        return self.greeting or f"Hi! I'm the {self.name} assistant. Ask me about orders, delivery, returns or products."


def load_profile(path: Path) -> ShopProfile:
    """Read and check a profile; a mistake raises ProfileError naming the file and the field."""
    path = Path(path).expanduser()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"shop profile {path} does not exist (python -m chatbot init-shop DIR writes one)") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProfileError(f"shop profile {path} is not readable YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ProfileError(f"shop profile {path} must be a YAML mapping of fields (name: ..., documents: ...)")
    try:
        return ShopProfile(path=path.resolve(), **{str(k): v for k, v in raw.items()})
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '(profile)'}: {e['msg'].removeprefix('Value error, ')}"
                    for e in exc.errors(include_url=False)]
        raise ProfileError(f"shop profile {path}:\n  " + "\n  ".join(problems)) from None
