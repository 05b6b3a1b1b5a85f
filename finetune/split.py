"""The held-out split: dev questions the adapter is judged on, and the document sections
that answer them, none of which the training set may show.

A section is a document's heading path (`policies/returns` + `Returns Policy > Return
window`); orders are held out by customer, since a shopper's prompt shows all their recent
orders. The split is a seeded sample of the dev set, so the same seed gives the same split.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from knowledge.chunking import Chunk


def section_key(doc_id: str, heading: str) -> str:
    return f"{doc_id} :: {heading}"


@dataclass
class Split:
    held_out_questions: list[dict]  # evaluated, never trained on
    train_questions: list[dict]  # dev questions whose sections are not held out
    held_out_sections: set[str] = field(default_factory=set)
    held_out_customers: set[int] = field(default_factory=set)

    def allows(self, doc_id: str, heading: str) -> bool:
        """Whether a training example may show this section."""
        return section_key(doc_id, heading) not in self.held_out_sections

    def to_json(self) -> dict:
        return {"held_out_questions": [q["id"] for q in self.held_out_questions],
                "held_out_sections": sorted(self.held_out_sections),
                "held_out_customers": sorted(self.held_out_customers)}


def answer_sections(question: dict, chunks_by_doc: dict[str, list[Chunk]]) -> set[str]:
    """The sections of the question's documents that state its key fact (all of the
    documents' sections when none states it literally)."""
    fact = _squash(question["key_fact"])
    found, every = set(), set()
    for doc_id in question["doc_ids"]:
        for chunk in chunks_by_doc.get(doc_id, []):
            every.add(section_key(chunk.doc_id, chunk.heading))
            if fact and fact in _squash(chunk.text):
                found.add(section_key(chunk.doc_id, chunk.heading))
    return found or every


def split_questions(questions: list[dict], chunks: list[Chunk], *, share: float, seed: int,
                    customers: list[int] = (), min_share: float = 0.15) -> Split:
    """Hold out `share` of each question kind (at least one), with their sections.

    A shop with few labelled questions (or none) still gets a held-out part of its own: a seeded
    sample of its sections tops what the questions hold out up to `min_share`, and with no
    question about an order, `min_share` of its customers are held out, so the evaluation loss
    measures this shop's documents and orders, not nothing.
    """
    chunks_by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        chunks_by_doc.setdefault(chunk.doc_id, []).append(chunk)
    rng = random.Random(seed)
    held: list[dict] = []
    for kind in sorted({q["kind"] for q in questions}):
        group = [q for q in questions if q["kind"] == kind]
        held += rng.sample(group, max(1, round(share * len(group))))
    held_ids = {q["id"] for q in held}
    sections = set().union(*(answer_sections(q, chunks_by_doc) for q in held))
    every = sorted({section_key(c.doc_id, c.heading) for c in chunks if c.doc_type != "product"})
    sections |= set(rng.sample([s for s in every if s not in sections],
                               max(0, min(len(every) - len(sections), round(min_share * len(every)) - len(sections)))))
    customers_asked = {q["customer_id"] for q in held if q.get("customer_id") is not None}
    customers = customers_asked or set(rng.sample(list(customers), round(min_share * len(customers))))
    # A dev question left for training must not lean on anything held out either.
    train = [q for q in questions if q["id"] not in held_ids
             and not answer_sections(q, chunks_by_doc) & sections
             and q.get("customer_id") not in customers]
    held.sort(key=lambda q: q["id"])
    return Split(held, train, sections, customers)


def _squash(text: str) -> str:
    return re.sub(r"[\s*_`]+", " ", text).strip().lower()
