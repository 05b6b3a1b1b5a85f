"""Grounded questions from the shop's own documents: each answer quotes the sentence that
states the fact and cites it, which is what the adapter must learn to do for any section,
including ones it never saw.

- a section's heading, asked about ("What is your policy on return shipping cost?");
- each factual sentence or table row, asked about with a phrase from it and the question
  word its fact calls for (a price: "How much", a duration: "How long", a date: "When");
- FAQ entries, whose headings are questions already;
- "Field: value" lines of product and other record documents ("What is the weight of ...").
"""

from __future__ import annotations

import random

from finetune.draft import CITE, Draft
from knowledge.chunking import Chunk
from knowledge.phrasing import (FIELD_DEFAULT, FIELD_LINE, FIELD_TEMPLATES, HEADING_TEMPLATES, fact_sentences,
                                record_fields, sentence_question, variants)

# How an answer says a field, after "The {name}".
FIELD_ANSWERS = {"price": "costs {value}.", "in stock": "is in stock in {value}.", "materials": "is made of {value}."}
FIELD_ANSWER_DEFAULT = "has {field}: {value}."


def section_drafts(chunk: Chunk, rng: random.Random, per_sentence: int = 1) -> list[Draft]:
    """Drafts for one chunk of prose (policies, FAQ, guides)."""
    target = (chunk.doc_id, chunk.heading)
    facts = fact_sentences(chunk.text)
    if not facts:
        return []
    drafts = []
    if chunk.section and chunk.section.endswith("?"):  # an FAQ entry: the heading is the question
        answer = " ".join(facts[:2]) + f" {CITE}"
        return [Draft("faq", q, answer, target, origin=chunk.heading)
                for q in variants(chunk.section, rng, 3)]
    if chunk.section:
        heading = chunk.section.lower()
        template = rng.choice(HEADING_TEMPLATES)
        question = template.format(h=heading, H=chunk.section)
        drafts.append(Draft("document", question, f"{facts[0]} {CITE}", target, origin=chunk.heading))
    for sentence in facts:
        for _ in range(per_sentence):
            question = sentence_question(sentence, chunk.section or chunk.title, rng)
            if question:
                drafts.append(Draft("document", rng.choice(variants(question, rng, 3)),
                                    f"{sentence} {CITE}", target, origin=chunk.heading))
    return drafts


def record_drafts(chunk: Chunk, rng: random.Random, fields: int = 3) -> list[Draft]:
    """Drafts for a record document (a product): questions about its "Field: value" lines."""
    lines = record_fields(chunk.text)
    if not lines:
        return []
    target, name = (chunk.doc_id, chunk.heading), chunk.title
    drafts = []
    for field, value in rng.sample(lines, min(fields, len(lines))):
        key = field.lower()
        template = rng.choice(FIELD_TEMPLATES.get(key, FIELD_DEFAULT))
        question = template.format(name=name, field=key)
        answer = f"{_record_answer(name, key, value)} {CITE}"
        drafts.append(Draft("product", rng.choice(variants(question, rng, 3)), answer, target,
                            origin=chunk.heading))
    # Asked by SKU, as shoppers paste them from the page.
    sku = dict((f.lower(), v) for f, v in lines).get("sku")
    if sku:
        drafts.append(Draft("product", rng.choice([f"whats {sku}", f"What is item {sku}?", f"{sku}?"]),
                            f"{sku} is the {name} {CITE}", target, origin=chunk.heading))
    return drafts


def record_line_answer(name: str, line: str) -> str | None:
    """A record's "Field: value" line as an answer that names the record ("The Firefly Stove
    Kit costs $99.00."); None for a line that is not a field. Every answer from a record says
    it this way, so the adapter does not also learn to answer with the bare line."""
    match = FIELD_LINE.match(line.strip())
    if match is None:
        return None
    field, value = match.groups()
    return _record_answer(name, field.lower(), value)


def _record_answer(name: str, field: str, value: str) -> str:
    return f"The {name} " + FIELD_ANSWERS.get(field, FIELD_ANSWER_DEFAULT).format(field=field, value=value)
