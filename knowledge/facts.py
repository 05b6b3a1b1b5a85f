"""The checkable facts a text states: prices, percentages, dates, times, numbers, ids (order
numbers, tracking numbers, SKUs, codes) and order statuses, each in a normalized form that
compares across wordings ("7 am" and "7:00 a.m." are one time).

Retrieval's focus step uses them to find sentences that state the kind of fact a question
asks for; the desk's fact guard (chatbot/facts.py) checks an answer's facts against its
evidence with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

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
