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
import re

from chatbot.answer import STOPWORDS
from knowledge.facts import extract
from finetune.draft import CITE, Draft
from finetune.phrasing import variants
from knowledge.chunking import Chunk
from knowledge.focus import sentences

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_FIELD = re.compile(r"^([A-Z][A-Za-z /-]{1,30}):\s+(.+)$")

WH_BY_FACT = {
    "price": ["How much is it", "What does it cost", "What's the price"],
    "percent": ["How much is it", "What percentage"],
    "date": ["When", "By what date"],
    "time": ["What time", "When"],
    "number": ["How many", "How long", "What number"],
}
GENERIC = ["What about", "Tell me about", "What's the rule on", "Can you explain", "Question about"]
HEADING_TEMPLATES = ["What is your policy on {h}?", "Can you tell me about {h}?", "{H}: how does it work?",
                     "What should I know about {h}?"]
FIELD_TEMPLATES = {
    "price": ["How much is the {name}?", "What does the {name} cost?"],
    "sku": ["What is the SKU of the {name}?"],
    "in stock": ["Which sizes of the {name} are in stock?", "Is the {name} in stock?"],
    "materials": ["What is the {name} made of?"],
    "care": ["How do I wash the {name}?"],
}
FIELD_DEFAULT = ["What is the {field} of the {name}?", "{name} {field}?"]
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
    lines = [m.groups() for m in (_FIELD.match(line.strip()) for line in chunk.text.splitlines()) if m]
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
    match = _FIELD.match(line.strip())
    if match is None:
        return None
    field, value = match.groups()
    return _record_answer(name, field.lower(), value)


def _record_answer(name: str, field: str, value: str) -> str:
    return f"The {name} " + FIELD_ANSWERS.get(field, FIELD_ANSWER_DEFAULT).format(field=field, value=value)


def fact_sentences(text: str) -> list[str]:
    """The sentences, list items, table rows and record lines of text that state something
    checkable or specific, as the focused evidence shows them (knowledge/focus.py)."""
    return [s for s in sentences(text) if len(s.split()) >= 5]


def sentence_question(sentence: str, topic: str, rng: random.Random) -> str | None:
    """A question a shopper might ask that this sentence answers: the question word its
    fact calls for and a phrase of the sentence without the fact itself."""
    facts = extract(sentence)
    phrase = _phrase(sentence, {f.text for f in facts}, rng)
    if phrase is None:
        return None
    kinds = [f.kind for f in facts if f.kind in WH_BY_FACT]
    if kinds and rng.random() < 0.7:
        return f"{rng.choice(WH_BY_FACT[kinds[0]])} {phrase}?"
    lead = rng.choice(GENERIC)
    return f"{lead} {phrase}?" if rng.random() < 0.6 else f"{topic}: {lead.lower()} {phrase}?"


def _phrase(sentence: str, fact_texts: set[str], rng: random.Random) -> str | None:
    """3 to 6 consecutive words of the sentence, none of them a fact, two of them content."""
    words = sentence.rstrip(".!?").split()
    fact_words = {w for f in fact_texts for w in f.split()}
    windows = []
    for size in (6, 5, 4, 3):
        for start in range(0, len(words) - size + 1):
            window = words[start:start + size]
            if any(w in fact_words or any(ch.isdigit() for ch in w) for w in window):
                continue
            content = [w for w in window if w.lower().strip(",;:()") not in STOPWORDS]
            if len(content) >= 2 and window[-1].lower() not in STOPWORDS:
                windows.append(window)
    if not windows:
        return None
    window = rng.choice(windows[:12])
    return " ".join(w.strip(",;:()\"") for w in window).strip()
