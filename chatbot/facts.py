"""Facts that must not be invented: an answer may only state the prices, dates, ids,
numbers and order statuses (knowledge/facts.py) its evidence states. `check()` says which it
does not, and `FactGuard` does the same on a stream, holding each word back until its facts
are checked, so the shopper never reads an unchecked number.

Only the model's words are checked: the retention offer is added afterwards from its SQL
record (chatbot/offers) and is never run through here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chatbot.prompt import quote
from knowledge.facts import Fact, extract
from shopcore.schemas import Evidence

# A bare number ending the checked text may be the start of a time or a percentage ("12 pm",
# "50 %"): the stream holds it back until the next word says which.
_OPEN_NUMBER = re.compile(r"(?:^|\s)\d[\d,]*(?:\.\d+)?$")
_CITATION = re.compile(r" ?\[(\d+)\]")


@dataclass
class FactCheck:
    facts: list[Fact] = field(default_factory=list)
    unsupported: list[Fact] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unsupported


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
    show now; once a fact is unsupported it returns nothing more and `violation` is set.
    A citation of evidence the prompt did not number ("[5]" of three sources) is dropped, so
    every number the shopper reads points at a listed source."""

    def __init__(self, evidence: list[Evidence]):
        self.known = Known.of(evidence)
        self.sources = len(evidence)
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
        return _CITATION.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= self.sources else "", released)
