"""The shop's retention policy (chatbot/offers/policy.yaml), validated, and the pure decision
it makes: which rule, if any, a turn's risk calls for.

The decision reads only risk levels and reason codes computed by chatbot/risk from the
shopper's words and the store, never the language model's output, so nothing the model
writes and nothing a shopper types as an "instruction" can make an offer appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_POLICY = Path(__file__).resolve().parent / "policy.yaml"
LEVELS = ("low", "medium", "high")
Level = Literal["low", "medium", "high"]
Kind = Literal[
    "percent_discount",
    "fixed_discount",
    "free_shipping",
    "express_replacement",
    "loyalty_points",
    "handoff",
]
HANDOFF = "handoff"


class PolicyError(Exception):
    """The policy file is missing, not YAML, or breaks a rule of its format."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OfferSpec(_Strict):
    kind: Kind
    value: Decimal = Field(Decimal("0"), ge=0, description="percent, amount or points")
    cost: Decimal | None = Field(None, ge=0, description="expected cost; default from the value")
    terms: str = Field(min_length=1)
    expiry_days: int | None = Field(None, ge=1, description="overrides the policy's expiry_days")

    @model_validator(mode="after")
    def _sensible_value(self) -> OfferSpec:
        if self.kind == "percent_discount" and not 0 < self.value <= 100:
            raise ValueError("a percent_discount needs a value between 0 and 100")
        if self.kind in ("fixed_discount", "loyalty_points") and self.value <= 0:
            raise ValueError(f"a {self.kind} needs a positive value")
        return self


class Condition(_Strict):
    level: Level | None = None
    message_level: Level | None = None
    reasons: list[str] = Field(default_factory=list)
    earlier_reasons: list[str] = Field(default_factory=list)
    message_reasons: list[str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)
    # Kinds of signal (the part before ':', among the policy's signal_kinds) the conversation
    # shows, this message included: one line typed to earn a code is one kind.
    min_signals: int = Field(0, ge=0, le=10)


class Rule(_Strict):
    name: str = Field(min_length=1)
    why: str = ""
    when: Condition
    offer: str


class Caps(_Strict):
    per_customer: int = Field(ge=0)
    window_days: int = Field(ge=1)


class Budget(_Strict):
    monthly: Decimal = Field(ge=0)
    average_order_value: Decimal = Field(gt=0)


class Policy(_Strict):
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    code_prefix: str = Field("", pattern=r"^[A-Z0-9-]{0,8}$")
    anonymous_offers: bool = False
    caps: Caps
    budget: Budget
    expiry_days: int = Field(ge=1)
    never_when: list[str] = Field(default_factory=list)
    # What min_signals counts. Not the message's tone (sentiment:*), which restates the
    # sentence it came from, nor asking for a deal or being reassured.
    signal_kinds: list[str] = Field(
        default_factory=lambda: ["churn", "competitor", "anger", "failure", "order", "value", "legal"])
    offers: dict[str, OfferSpec]
    rules: list[Rule]

    @model_validator(mode="after")
    def _rules_name_offers(self) -> Policy:
        unknown = [f"{r.name} -> {r.offer}" for r in self.rules if r.offer not in self.offers]
        if unknown:
            raise ValueError(f"rules name offers that are not defined: {', '.join(unknown)}")
        return self


def load_policy(path: Path = DEFAULT_POLICY) -> Policy:
    """Read and validate a policy file, failing with a message that names the problem."""
    try:
        return Policy.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except OSError as exc:
        raise PolicyError(f"cannot read the offer policy {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"the offer policy {path} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()
        )
        raise PolicyError(f"the offer policy {path} is invalid: {problems}") from None


@dataclass(frozen=True)
class TurnRisk:
    """What the policy reads about a turn: the conversation's risk and this message's."""

    level: str
    reasons: tuple[str, ...]  # the conversation's, including this message
    message_level: str
    message_reasons: tuple[str, ...]
    earlier_reasons: tuple[str, ...] = ()  # the conversation's before this message


def choose(policy: Policy, risk: TurnRisk, *, signed_in: bool) -> Rule | None:
    """The first rule that matches this turn, or None."""
    # Pasted instructions and anonymous shoppers can still reach a person, never a code.
    codes_allowed = (signed_in or policy.anonymous_offers) and not _any(
        risk.message_reasons, policy.never_when
    )
    for rule in policy.rules:
        if policy.offers[rule.offer].kind != HANDOFF and not codes_allowed:
            continue
        if matches(rule.when, risk, policy.signal_kinds):
            return rule
    return None


def matches(when: Condition, risk: TurnRisk, signal_kinds: list[str]) -> bool:
    """Whether every condition of a rule holds for this turn."""
    return (
        _at_least(risk.level, when.level)
        and _at_least(risk.message_level, when.message_level)
        and (not when.reasons or _any(risk.reasons, when.reasons))
        and (not when.earlier_reasons or _any(risk.earlier_reasons, when.earlier_reasons))
        and (not when.message_reasons or _any(risk.message_reasons, when.message_reasons))
        and not _any(risk.message_reasons, when.unless)
        and signals(risk.reasons + risk.earlier_reasons, signal_kinds) >= when.min_signals
    )


def signals(reasons: tuple[str, ...], kinds: list[str]) -> int:
    """How many of `kinds` the reasons show ('churn:leaving' and 'churn:close_account' are one)."""
    return len({reason.split(":", 1)[0] for reason in reasons} & set(kinds))


def _at_least(level: str, minimum: str | None) -> bool:
    return minimum is None or LEVELS.index(level) >= LEVELS.index(minimum)


def _any(reasons: tuple[str, ...], patterns: list[str]) -> bool:
    return any(fnmatchcase(reason, pattern) for reason in reasons for pattern in patterns)
