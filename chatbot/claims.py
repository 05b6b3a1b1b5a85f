"""Claim-level grounding: every sentence of an answer is checked against the evidence, not
only its numbers (chatbot/facts.py does those word by word). A sentence is shown when

- it claims nothing about the shop: courtesy ("Happy to help!", "Let me know if ...") or
  no content words at all; or
- its content words are in the evidence or the question (share of their idf weight at
  least SUPPORT_COVERAGE), or it says what an evidence sentence says in other words
  (embedding similarity at least SUPPORT_SIMILARITY), and
- it does not flip the evidence sentence it restates: "covers items altered by someone
  else" against "does not cover items altered by someone else" (one has a negation, the
  other not, over the same words) is contradicted, not supported;
- it does not recite the desk's own instructions or the evidence delimiters (RECITAL_WORDS
  consecutive words of the rules, "<<<", ">>>").

A sentence that copies an evidence sentence partway and then jumps to another place of the
evidence (a splice: "Zone: Europe; Countries: …; International Standard" went on with the
next line's "is free on orders of $250", dropping the row's price) is completed as the
evidence sentence it began to copy: a small model copying a long table row or list slips at
a repeated phrase, and the words it meant are the ones it was copying.

A record's value said with another field's words ("The Beacon 350 Headlamp costs 85 g": the
adapter learned "The X costs $Y" and reaches for it) is said with its own field ("has a
weight of 85 g"), which the record line names; when the question asked for what those words
say ("what is it made of?" answered "is made of 620 g"), the value is that field's instead.

An unsupported sentence is removed from the stream before the shopper sees it (a `ClaimGate`
holds each sentence until it ends); chatbot/answer.py records what was removed and why in
the message's `guardrail`. Only answers in the documents' language are checked for support:
the embedder and the term weights are the documents' language's. Recitals are checked in
every language. The thresholds were set on the answers suite so that correct answers keep
their sentences (`python -m evals run --suite answers` reports the check's removals on
answers that state their key fact).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from knowledge.focus import sentences as evidence_sentences
from knowledge.keyword import terms
from knowledge.phrasing import record_fields
from shopcore.schemas import Evidence

SUPPORT_COVERAGE = 0.6
SUPPORT_SIMILARITY = 0.62
RESTATES = 0.3  # Jaccard similarity of terms from which a sentence restates an evidence clause
RECITAL_WORDS = 6
SPLICE_COPIED = 6  # words copied in order from one evidence sentence before a jump counts as a splice
SPLICE_JUMP = 3  # words copied from elsewhere in the evidence after it
# The words an answer says a record's field with, before its value, and words a question
# asks for it with, by the start of the field's name ("Price", "Materials"): the adapter's
# ("The X costs $Y", "The X is made of …").
FIELD_WORDS = {
    "price": (re.compile(r"\b(?:costs?|is priced at)\s+", re.IGNORECASE),
              re.compile(r"\b(?:cost|costs|price|priced|how much is)\b", re.IGNORECASE)),
    "material": (re.compile(r"\b(?:is|are) made (?:of|from)\s+", re.IGNORECASE),
                 re.compile(r"\b(?:made (?:of|from)|materials?|fabrics?)\b", re.IGNORECASE)),
}
DELIMITERS = ("<<<", ">>>")

# Sentences that claim nothing about the shop: greetings, thanks, offers of more help, the
# hand-off's own words, honest "I don't know".
COURTESY = re.compile(
    r"^(?:(?:hi|hello|hey|thanks?|thank you|sure|of course|certainly|absolutely|great|good news|yes|no|okay|ok)"
    r"(?: there)?[!,.]*|"
    r".*\b(?:happy|glad|pleased) to help\b.*|"
    r".*\b(?:let (?:me|us) know|feel free|don'?t hesitate|reach out|any (?:other|more|further) questions?)\b.*|"
    r".*\b(?:i(?:'m| am) sorry|apologi[sz]e|unfortunately)\b[^.]*[.!]?|"
    r".*\b(?:i don'?t know|i(?:'m| am) not sure|i can'?t answer|connect you with|get a person|a person from our team)\b.*|"
    r".*\b(?:hope (?:this|that) helps|have a (?:great|nice|good) day)\b.*)$",
    re.IGNORECASE,
)
NEGATION = re.compile(
    r"\b(?:not|no|never|none|nothing|nor|cannot|without|excluded?|excludes|exclusions?|except|unable|non|"
    r"\w+n['’]t|(?:do|does|did|ca|wo|is|are|was|were|have|has|had|should|could|would)nt)\b",
    re.IGNORECASE)
# A condition's own negation does not negate what it conditions: "If something isn't right,
# you can return it" says you can return it.
_CONDITION = re.compile(r"^\s*(?:if|when|whenever|once|in case|as long as)\b[^,]*,\s*|,?\s*\b(?:if|when|in case)\b[^,;]*$",
                        re.IGNORECASE)
_CLAUSE = re.compile(r"(?<=[.!?;])\s+|,\s+(?=but\b|however\b|while\b|whereas\b)")
_CITATION = re.compile(r"\s*\[\d+\]")
# The end of a sentence in a stream: its stop, any citations after it, and the next one begun.
_BOUNDARY = re.compile(r"(?<=[.!?])(?:\s*\[\d+\])*[.!?]?\s+(?=[^\s\[])|\n+")


@dataclass(frozen=True)
class Verdict:
    sentence: str
    supported: bool
    reason: str  # claimless, supported, unsupported, contradicted, recital, completed, relabelled
    coverage: float = 0.0
    similarity: float = 0.0


class ClaimChecker:
    """Judges the sentences of answers to one question from one set of evidence."""

    def __init__(self, question: str, evidence: list[Evidence], retriever, rules: str):
        from chatbot.prompt import quote

        self.retriever = retriever
        self.question = question
        quoted = [(e, quote(e.text)) for e in evidence]
        said = [(e, s) for e, text in quoted for s in evidence_sentences(text)]
        self.units = [f"{e.title}: {s}" for e, s in said] + [e.title for e in evidence]
        self.clauses = [c for e, text in quoted for c in _clauses(e, text)]
        # Each evidence sentence with its words and where they start in it (for completing splices).
        self.sentences = [(s, _tokens(s)) for _, s in said]
        self._words = [[w for w, _ in tokens] for _, tokens in self.sentences]
        self.fields = [field for _, text in quoted for field in record_fields(text)]  # ("Weight", "85 g")
        self.known = " ".join([question, *self.units])
        self._vectors: np.ndarray | None = None
        self.recital = _ngrams(rules)

    def judge(self, sentence: str) -> Verdict:
        text = _CITATION.sub("", sentence).strip()
        if any(d in text for d in DELIMITERS) or _ngrams(text) & self.recital:
            return Verdict(sentence, False, "recital")
        own = set(terms(text))
        if not own or COURTESY.match(text):
            return Verdict(sentence, True, "claimless")
        coverage = self.retriever.coverage(text, self.known)
        similarity = self._similarity(text)
        if self._contradicts(text, own):
            return Verdict(sentence, False, "contradicted", coverage, similarity)
        supported = coverage >= SUPPORT_COVERAGE or similarity >= SUPPORT_SIMILARITY
        return Verdict(sentence, supported, "supported" if supported else "unsupported", coverage, similarity)

    def completed(self, sentence: str) -> str | None:
        """The evidence sentence a spliced sentence began to copy, from where the copy began
        to its end, with the sentence's citations; None if sentence is no splice."""
        text = _CITATION.sub("", sentence).strip()
        words = [w for w, _ in _tokens(text)]
        if len(words) < SPLICE_COPIED + SPLICE_JUMP:
            return None
        # The evidence sentence whose words the sentence copies longest from its start.
        copied, source, start = max(((_run(words, other, i), n, i)
                                     for n, other in enumerate(self._words) for i in range(len(other))),
                                    default=(0, -1, 0))
        if copied < SPLICE_COPIED or copied == len(words):
            return None
        original, tokens = self.sentences[source]
        if start + copied == len(tokens):
            return None  # it copied the whole rest of that sentence, then went on: two sentences
        jump = words[copied:copied + SPLICE_JUMP]
        if len(jump) < SPLICE_JUMP or not any(_run(jump, other, i) == len(jump)
                                              for n, other in enumerate(self._words) for i in range(len(other))
                                              if (n, i) != (source, start + copied)):
            return None  # too little after the copy, or nothing copied from elsewhere
        citations = "".join(c.strip() for c in _CITATION.findall(sentence))
        return f"{original[tokens[start][1]:].strip()} {citations}".strip()

    def relabelled(self, sentence: str) -> str | None:
        """sentence with a record's value said with another field's words put right ("costs
        85 g" -> "has a weight of 85 g"), or, when the question asked for what those words
        say, with that field's value ("is made of 620 g" asked what it is made of -> "is made
        of <the Materials line>"); None if it says no record's value so."""
        for field_word, (words, asking) in FIELD_WORDS.items():
            match = words.search(sentence)
            if match is None:
                continue
            rest = sentence[match.end():]
            own = next((v for f, v in self.fields if f.lower().startswith(field_word)), None)
            if own is not None and rest.lower().startswith(own.lower()):
                return None  # that field's own value
            other = next(((f, v) for f, v in self.fields
                          if not f.lower().startswith(field_word) and rest.lower().startswith(v.lower())), None)
            if other is None:
                continue
            field, value = other
            if own is not None and asking.search(self.question):
                return sentence[:match.end()] + own + rest[len(value):]
            return f"{sentence[:match.start()]}has a {field.lower()} of {value}{rest[len(value):]}"
        return None

    def _similarity(self, text: str) -> float:
        if not self.units:
            return 0.0
        if self._vectors is None:
            self._vectors = self.retriever.text_vectors(self.units)
        return float(np.max(self._vectors @ self.retriever.text_vectors([text])[0]))

    def _contradicts(self, text: str, own: set[str]) -> bool:
        """Whether the evidence clause that text restates most closely (Jaccard similarity of
        their terms, at least RESTATES) says it with the opposite polarity: a negation where
        text has none, or the reverse. A clause quoted as it is always restates itself best."""
        negative = negated(text)
        # Best restated clause first; between equals, one that agrees (the benefit of the doubt).
        scored = [(len(own & terms_) / len(own | terms_), clause_negated == negative)
                  for terms_, clause_negated in self.clauses]
        similarity, agrees = max(scored, default=(0.0, True))
        return similarity >= RESTATES and not agrees


@dataclass
class ClaimGate:
    """Holds streamed text until each sentence ends, then lets through the supported ones."""

    checker: ClaimChecker
    held: str = ""
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def removed(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.supported]

    def feed(self, text: str) -> str:
        """Add checked-for-facts text; return the sentences it completed that may be shown."""
        self.held += text
        ends = list(_BOUNDARY.finditer(self.held))
        if not ends:
            return ""
        cut = ends[-1].end()
        done, self.held = self.held[:cut], self.held[cut:]
        return self._pass(done)

    def finish(self) -> str:
        done, self.held = self.held, ""
        return self._pass(done)

    def _pass(self, text: str) -> str:
        shown, start = [], 0
        for end in [m.end() for m in _BOUNDARY.finditer(text)] + [len(text)]:
            piece = text[start:end]
            start = end
            if not piece.strip():
                shown.append(piece)
                continue
            whole = self.checker.completed(piece.strip())
            if whole is not None:  # a splice: shown as the evidence sentence it began to copy
                self.verdicts.append(Verdict(piece.strip(), True, "completed"))
                shown.append(piece.replace(piece.strip(), whole))
                continue
            relabelled = self.checker.relabelled(piece)
            if relabelled is not None:  # then judged as it will be shown
                self.verdicts.append(Verdict(piece.strip(), True, "relabelled"))
                piece = relabelled
            verdict = self.checker.judge(piece.strip())
            self.verdicts.append(verdict)
            if verdict.supported:
                shown.append(piece)
        return "".join(shown)


def negated(text: str) -> bool:
    """Whether text says something in the negative (its conditions' negations aside)."""
    return NEGATION.search(_CONDITION.sub(" ", _CITATION.sub("", text))) is not None


def _clauses(item: Evidence, text: str) -> list[tuple[set[str], bool]]:
    """The evidence's clauses as (terms, negated). Under a negative heading ("What the warranty
    doesn't cover", "Exclusions") each clause is also read with the heading ("the warranty
    doesn't cover: accidental damage"), so a sentence that says the heading's words in the
    positive ("the warranty covers accidental damage") restates that reading best. A question
    heading answered "No." or "Yes." (an FAQ) is a clause of its own: "Do you have a physical
    store?" + "No." says the shop has none."""
    heading = item.title.rsplit(">", 1)[-1].strip()
    heading_terms = set(terms(heading))
    under_negation = not heading.endswith("?") and negated(heading)
    out = []
    for sentence in evidence_sentences(text):
        parts = _CLAUSE.split(sentence)
        for clause in parts + ([sentence] if len(parts) > 1 else []):  # the whole sentence too
            clause_terms = set(terms(clause))
            if clause_terms:
                negative = negated(clause)
                out.append((clause_terms, negative))
                if under_negation:
                    out.append((clause_terms | heading_terms, not negative))
    answer = re.match(r"\s*(no|yes)\b", text, re.IGNORECASE)
    if heading.endswith("?") and answer and heading_terms:
        out.append((heading_terms, answer.group(1).lower() == "no"))
    return out


_TOKEN = re.compile(r"[$€£]?\w+(?:[.,'’–-]\w+)*%?")


def _tokens(text: str) -> list[tuple[str, int]]:
    """text's words, lowercased, each with where it starts in text (punctuation between words dropped)."""
    return [(m.group(0).lower(), m.start()) for m in _TOKEN.finditer(text)]


def _run(words: list[str], other: list[str], at: int) -> int:
    """How many of words, from the first, other has in order from position at."""
    n = 0
    while n < len(words) and at + n < len(other) and other[at + n] == words[n]:
        n += 1
    return n


def _ngrams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i:i + RECITAL_WORDS]) for i in range(len(words) - RECITAL_WORDS + 1)}
