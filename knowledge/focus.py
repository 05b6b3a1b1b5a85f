"""The sentences of the evidence that answer the question, best first: the last part of
step 3, between retrieval and the prompt.

Retrieval finds the right chunks; the answer is usually one sentence in them. A small model
copying an answer picks the wrong sentence of the right chunk far more often than it picks
the wrong chunk (a first sentence, another table row), so the prompt shows only the
sentences most likely to answer, best first, each chunk still under its own number and
title. The prompt gets shorter too (faster answers, more training examples per minute).

A sentence's relevance is a weighted sum of four signals that mean the same in any shop:
the cosine similarity of the question and "title: sentence" (all-MiniLM-L6-v2), the share
of the question's term weight the title and sentence contain (the keyword index's
coverage), the chunk's own relevance, and whether the sentence states the kind of fact the
question asks for (a price for "how much", a duration or date for "how long", "when").
Weights were set on the demo shop's dev questions; the answer suite's key_fact_ceiling
(`python -m evals run --suite answers`) counts the questions whose focused evidence still
states the key fact.

Records named in the question (an order by its number, a product by its SKU: relevance 1.0)
are what the question is about and are shown whole, in their own order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from knowledge.facts import extract
from shopcore.schemas import Evidence
from knowledge.chunking import TABLE_ROW, TABLE_RULE

# sentence relevance = w_similarity * cosine + w_coverage * coverage + w_chunk * chunk relevance
#                      + w_kind * (states the kind of fact asked for)
SENTENCE_WEIGHTS = (6.8, 3.0, 2.0, 2.0)
PER_CHUNK = 3  # sentences at most from one chunk: the others' best ones get a place too
NAMED = 1.0  # relevance of a record the question names (order number, SKU)

# What a question asks for -> the fact kinds (chatbot/facts.py) of a sentence that answers it.
ASKS_FOR = [
    # "how much" asks for money, unless for a weight or a volume ("how much does it weigh?");
    # so does a threshold ("the free shipping threshold": the amount).
    (re.compile(r"\b(?:how much(?![^?.!]*\b(?:weigh|weighs|weight|hold|holds|fit|fits)\b)|cost|costs|price|pay|fee|"
                r"charge[ds]?|refunded|get back|threshold|minimum (?:order|spend|purchase))\b", re.IGNORECASE),
     {"price", "percent"}),
    (re.compile(r"\b(?:how long|when|what time|how soon|how fast|by what date|what day)\b", re.IGNORECASE),
     {"date", "time", "number"}),
    (re.compile(r"\b(?:how many|how tall|how big|how heavy|weigh|weighs|weight|capacity|holds|fits)\b", re.IGNORECASE),
     {"number"}),
]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(*\"'])")
_FIELD = re.compile(r"^[A-Z][\w '/-]{0,30}: \S")
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d{1,2}[.)])\s+")


def clean(text: str) -> str:
    """Markdown emphasis, links and list markers out of a sentence."""
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[*_`]{1,3}", "", text)
    return re.sub(r"^\s*(?:[-*+#]+|\d{1,2}[.)])\s+", "", text).strip()


def sentences(text: str, lead_ins: bool = True) -> list[str]:
    """The sentences, list items, "Field: value" lines and table rows of text, cleaned of
    Markdown. A table row reads "Header: cell; Header: cell". A short lead-in ("No.") is
    joined to what follows it, since alone it answers nothing; a list's lead-in ("Free
    shipping doesn't apply to:") to each of its items, which alone would say the opposite
    ("international orders"), unless lead_ins is False (then to its first item only)."""
    units, header = [], None  # (unit, whether it is a list item)
    for line in text.splitlines():
        line = line.strip()
        if TABLE_ROW.match(line):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if TABLE_RULE.match(line):
                continue
            if header is None:
                header = cells
                continue
            units.append((clean("; ".join(f"{h}: {c}" if h else c for h, c in zip(header, cells))), False))
            continue
        header = None
        item = _LIST_ITEM.match(line) is not None
        line = clean(line)
        units += [(part, item) for part in _SENTENCE_END.split(line) if part.strip()] if line else []
    joined, lead, list_lead = [], "", ""
    for unit, item in units:
        if list_lead and item and lead_ins:
            joined.append(f"{list_lead} {unit}")
            lead = ""
            continue
        list_lead = ""
        unit = f"{lead} {unit}" if lead else unit
        if unit.endswith(":") and not _FIELD.match(unit):
            lead = list_lead = unit
            continue
        if len(unit.split()) < 4 and not _FIELD.match(unit):
            lead = unit
            continue
        lead = ""
        joined.append(unit)
    return joined + ([lead] if lead else [])


def asks_for(question: str) -> set[str]:
    """The fact kinds a sentence answering question would state (empty: any)."""
    return set().union(*(kinds for pattern, kinds in ASKS_FOR if pattern.search(question)))


def focus(question: str, evidence: list[Evidence], retriever, limit: int,
          keep: Callable[[Evidence, str], bool] | None = None) -> list[Evidence]:
    """The evidence cut to its `limit` most relevant sentences, best first: each chunk keeps
    its best sentences (at most PER_CHUNK), chunks ordered by their best one. Named records
    come first and whole; the most relevant chunk always keeps its best sentence (so whether
    the evidence covers the question does not change); sentences keep(item, sentence) says
    yes to are kept whatever their rank. limit 0 returns the evidence as it is."""
    if limit <= 0 or not evidence:
        return evidence
    whole = [e for e in evidence if e.score >= NAMED]
    rest = [e for e in evidence if e.score < NAMED]
    candidates = [(i, s) for i, item in enumerate(rest) for s in sentences(item.text)]
    if not candidates:
        return whole
    scores = _scores(question, rest, candidates, retriever)
    forced = [j for j, (i, s) in enumerate(candidates) if keep is not None and keep(rest[i], s)]
    chosen: dict[int, list[int]] = {}
    for j in forced + [j for j in np.argsort(-scores, kind="stable") if j not in forced]:
        i = candidates[j][0]
        if j not in forced and (sum(map(len, chosen.values())) >= limit or len(chosen.get(i, [])) >= PER_CHUNK):
            continue
        chosen.setdefault(i, []).append(j)
    top = max(range(len(rest)), key=lambda i: rest[i].score)
    if top not in chosen:
        chosen[top] = [max((j for j, (i, _) in enumerate(candidates) if i == top), key=lambda j: scores[j])]
    best = {i: sorted(js, key=lambda j: -scores[j]) for i, js in chosen.items()}
    order = sorted(best, key=lambda i: -scores[best[i][0]])
    return whole + [replace(rest[i], text="\n".join(candidates[j][1] for j in best[i])) for i in order]


def _scores(question: str, items: list[Evidence], candidates: list[tuple[int, str]], retriever) -> np.ndarray:
    """Each candidate sentence's relevance to question (see the module docstring)."""
    w_similarity, w_coverage, w_chunk, w_kind = SENTENCE_WEIGHTS
    titled = [f"{items[i].title}: {s}" for i, s in candidates]
    similarity = retriever.text_vectors(titled) @ retriever.query_vector(question)
    coverage = np.array([retriever.coverage(question, t) for t in titled])
    chunk = np.array([items[i].score for i, _ in candidates])
    wanted = asks_for(question)
    kind = np.array([1.0 if wanted and any(f.kind in wanted for f in extract(s)) else 0.0 for _, s in candidates])
    return w_similarity * similarity + w_coverage * coverage + w_chunk * chunk + w_kind * kind
