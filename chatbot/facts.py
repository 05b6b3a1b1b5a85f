"""Facts that must not be invented: prices, percentages, dates, numbers, ids (order numbers,
tracking numbers, SKUs, codes) and order statuses. An answer may only state the ones its
evidence states; `check()` says which it does not, and `FactGuard` does the same on a
stream, holding each word back until its facts are checked, so the shopper never reads an
unchecked number.

Only the model's words are checked: the retention offer is added afterwards from its SQL
record (chatbot/offers) and is never run through here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from chatbot.prompt import quote
from shopcore.schemas import Evidence
from shopcore.store.models import ORDER_STATUSES

MONTHS = {m: n for n, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
MONTHS |= {m[:3]: n for m, n in list(MONTHS.items())} | {"sept": 9}

# kind -> pattern; an earlier kind claims its characters before later kinds look.
FACT_PATTERNS = {
    "citation": r"\[\d+\]",  # [n] points at evidence; checked by the citation step, not here
    "date": r"\b\d{4}-\d{2}-\d{2}\b|\b(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?\s+\d{1,2}(?:st|nd|rd|th)?\b",
    "time": r"\b\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)(?![a-z])|\b\d{1,2}:\d{2}\b",
    "price": r"[$€£]\s?\d[\d,]*(?:\.\d+)?",
    "percent": r"\b\d+(?:\.\d+)?\s?%",
    "id": r"\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b",
    "number": r"\b\d[\d,]*(?:\.\d+)?\b",
    "status": r"\b(?:" + "|".join(ORDER_STATUSES) + r")\b",
}
_FACTS = re.compile("|".join(f"(?P<{kind}>{p})" for kind, p in FACT_PATTERNS.items()), re.IGNORECASE)
# "1." or "2)" opening a line is list numbering, not a claim.
_ENUMERATOR = re.compile(r"(?m)^\s*\d{1,2}[.)]\s")
# A bare number ending the checked text may be the start of a time or a percentage ("12 pm",
# "50 %"): the stream holds it back until the next word says which.
_OPEN_NUMBER = re.compile(r"(?:^|\s)\d[\d,]*(?:\.\d+)?$")


def _is_id(raw: str) -> bool:
    """Order numbers, SKUs and tracking numbers (A1042, RO-JKT-0004, 1Z...) have at least two
    digits and no all-lowercase word part; "2-person" and "30-day" are words, not ids."""
    return sum(c.isdigit() for c in raw) >= 2 and not any(
        part.isalpha() and part.islower() for part in raw.split("-"))


@dataclass(frozen=True)
class Fact:
    kind: str
    text: str
    value: str  # normalized, comparable with the evidence's facts of the same kind


@dataclass
class FactCheck:
    facts: list[Fact] = field(default_factory=list)
    unsupported: list[Fact] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unsupported


def extract(text: str) -> list[Fact]:
    """The checkable facts in text, in order."""
    text = _ENUMERATOR.sub(" ", text)
    facts = []
    for match in _FACTS.finditer(text):
        kind = match.lastgroup
        raw = match.group(0)
        if kind == "citation" or (kind == "id" and not _is_id(raw)):
            if kind == "id":  # a word like "3-season": still check its number
                facts += [Fact("number", n, _number(n)) for n in re.findall(r"\d+", raw)]
            continue
        value = _normalize(kind, raw)
        if value is not None:
            facts.append(Fact(kind, raw, value))
    return facts


def _normalize(kind: str, raw: str) -> str | None:
    if kind == "date":
        iso = re.match(r"(\d{4})-(\d{2})-(\d{2})", raw)
        if iso:  # the evidence also knows each ISO date by month and day (Known.of)
            return f"{int(iso.group(1))}-{int(iso.group(2))}-{int(iso.group(3))}"
        month, day = re.match(r"([a-z]+)\.?\s+(\d+)", raw.lower()).groups()
        return f"{MONTHS[month]}-{int(day)}"
    if kind == "time":
        # 12-hour clock, am/pm dropped: "7 am", "7:00" and "7:00 a.m." are the same claim.
        hour, minute = re.match(r"(\d+)(?::(\d+))?", raw).groups()
        return f"{int(hour) % 12}:{int(minute or 0):02d}"
    if kind in ("price", "percent", "number"):
        return _number(re.sub(r"[^\d.,]", "", raw))
    return raw.upper() if kind == "id" else raw.lower()


def _number(raw: str) -> str | None:
    try:
        return format(Decimal(raw.replace(",", "").rstrip(".")).normalize(), "f")
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class Known:
    """What the evidence states, by kind, in normalized form."""

    values: dict[str, set[str]]
    statuses: set[str] | None  # the shopper's orders' statuses; None when no order is in evidence

    @classmethod
    def of(cls, evidence: list[Evidence]) -> Known:
        values: dict[str, set[str]] = {}
        for item in evidence:
            # What the model saw: a number in a removed, injected instruction supports nothing.
            for fact in extract(f"{item.title}\n{quote(item.text)}"):
                values.setdefault(fact.kind, set()).add(fact.value)
                if fact.kind == "date" and fact.value.count("-") == 2:
                    values["date"].add(fact.value.split("-", 1)[1])
        orders = [e for e in evidence if e.doc_id.startswith("order/")]
        statuses = {s.lower() for e in orders for s in re.findall(r"^Status: (\w+)", e.text, re.M)}
        return cls(values, statuses if orders else None)

    def supports(self, fact: Fact) -> bool:
        if fact.kind == "status":
            # Status words are checked only against the shopper's orders: policies use them
            # in general terms ("once an order has shipped").
            return self.statuses is None or fact.value in self.statuses
        if fact.kind == "number":
            # A bare number may restate any number of the evidence (a price, a date's day).
            return any(fact.value in self.values.get(k, ()) for k in ("number", "price", "percent"))
        if fact.kind == "price":
            return fact.value in self.values.get("price", set()) | self.values.get("number", set())
        return fact.value in self.values.get(fact.kind, set())


def check(answer: str, evidence: list[Evidence]) -> FactCheck:
    """Which facts of the answer the evidence does not state."""
    known = Known.of(evidence)
    facts = extract(answer)
    return FactCheck(facts, [f for f in facts if not known.supports(f)])


class FactGuard:
    """Checks a streamed answer word by word: `feed()` returns the text that is safe to
    show now; once a fact is unsupported it returns nothing more and `violation` is set."""

    def __init__(self, evidence: list[Evidence]):
        self.known = Known.of(evidence)
        self.text = ""
        self.released = 0
        self.facts: list[Fact] = []
        self.violation: Fact | None = None

    def feed(self, piece: str) -> str:
        """Add a piece; return the newly checked text (up to the last whitespace)."""
        self.text += piece
        boundary = max(self.text.rfind(c) for c in " \n\t")
        number = _OPEN_NUMBER.search(self.text, 0, max(boundary, 0))
        if number is not None:
            boundary = number.start()
        return self._release(boundary) if boundary > self.released else ""

    def finish(self) -> str:
        """Check and return whatever is still held back."""
        return self._release(len(self.text))

    def _release(self, end: int) -> str:
        if self.violation is not None:
            return ""
        # Re-read from the start of the line so list numbering and dates are seen whole.
        start = self.text.rfind("\n", 0, self.released) + 1
        seen = len(extract(self.text[start:self.released]))
        new = extract(self.text[start:end])[seen:]
        for fact in new:
            self.facts.append(fact)
            if not self.known.supports(fact):
                self.violation = fact
                return ""
        released, self.released = self.text[self.released:end], end
        return released
