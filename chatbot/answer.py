"""Step 5 of a turn: the answer the shopper reads, streamed, grounded and honest.

1. Route: a question that needs a person, or that the evidence does not cover, gets the
   hand-off reply (chatbot/handoff.py) instead of a guess.
2. Generate, streaming, through a FactGuard: each word is shown only once its prices,
   dates, ids and numbers are found in the evidence.
3. If the model states a fact the evidence does not, stop it at once and regenerate with
   a correction (`retries` times), then fall back to a reply quoted from the evidence.
   The replacement starts with a TokenEvent(replace=True): clients drop what they showed.
4. With a ClaimChecker, each sentence is held until it ends and shown only if the evidence
   supports it (chatbot/claims.py); an answer left with no sentence falls back likewise. A
   sentence spliced from two places of the evidence is shown as the one it began to copy, a
   record's value said with another field's words ("costs 85 g") with its own.

What happened is recorded in `Answer.guardrail`, stored on the message.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from chatbot.claims import ClaimChecker, ClaimGate
from chatbot.facts import FactGuard
from chatbot.handoff import route
from chatbot.llm.generation import GenerationStats, Generator
from chatbot.messages import say
from chatbot.prompt import Prompt, addresses_staff, quote, with_correction
from knowledge.phrasing import STOPWORDS
from knowledge.retrieval import COVERAGE_THRESHOLD
from shopcore.schemas import Evidence, TokenEvent

CITATION = re.compile(r"\[(\d+)\]")
REPAIRS = ("completed", "relabelled")  # what the claim gate does to a sentence it repairs
FALLBACK_LEAD = say("fallback_lead", "en")  # led in the shopper's language: say("fallback_lead", ...)
FALLBACK_SENTENCES = 2
_WORD = re.compile(r"[a-z0-9]+")


@dataclass
class Answer:
    """Filled in while `respond()` runs, so a caller that stops early still has the parts."""

    text: str = ""
    guardrail: dict | None = None
    stats: GenerationStats = field(default_factory=GenerationStats)
    first_token_at: float | None = None  # time.perf_counter() when the first text was shown

    def cited(self, evidence_count: int) -> set[int]:
        """Evidence numbers (1-based) the answer cites that exist in the prompt."""
        return {int(n) for n in CITATION.findall(self.text) if 1 <= int(n) <= evidence_count}


def respond(
    question: str,
    evidence: list[Evidence],
    prompt: Prompt,
    generator: Generator,
    answer: Answer,
    *,
    max_new_tokens: int,
    retries: int = 1,
    cancel: threading.Event | None = None,
    coverage_threshold: float = COVERAGE_THRESHOLD,
    claims: ClaimChecker | None = None,
    language: str = "en",
) -> Iterator[TokenEvent]:
    """Stream the answer to question as TokenEvents, filling in `answer` as it goes; with
    claims, each sentence is shown only once it is judged supported (chatbot/claims.py).
    The desk's own words (the hand-off) are said in language."""
    handoff = route(question, evidence, coverage_threshold)
    if handoff is not None:
        answer.guardrail = {"action": "handoff", "reason": handoff.reason, "detail": handoff.detail}
        # Asked for a person, the shopper hears that one is on the way, not that the desk cannot answer.
        words = say("person_asked" if handoff.reason == "shopper_asked" else "handoff", language)
        yield from _show(answer, words, replace=False)
        return

    messages, unsupported, removed, repaired = prompt.messages, [], [], []
    for attempt in range(retries + 1):
        guard = FactGuard(prompt.evidence)
        gate = ClaimGate(claims) if claims is not None else None
        yield from _generate(generator, messages, guard, gate, answer, max_new_tokens, cancel,
                             replace=attempt > 0)
        if gate is not None:
            removed += [{"text": v.sentence, "reason": v.reason} for v in gate.removed]
            repaired += [{"text": v.sentence, "reason": v.reason} for v in gate.verdicts if v.reason in REPAIRS]
        cancelled = cancel is not None and cancel.is_set()
        if (guard.violation is None and answer.text.strip()) or cancelled:
            action = ("regenerated" if unsupported else "claims_removed" if removed
                      else "claims_repaired" if repaired else None)
            if action is not None:
                answer.guardrail = _guardrail(action, unsupported, removed, repaired)
            return
        if guard.violation is None:
            break  # every sentence was removed: regenerating would say the same again
        unsupported.append(guard.violation.text)
        messages = with_correction(prompt.messages, unsupported)

    answer.guardrail = _guardrail("fallback", unsupported, removed, repaired)
    yield from _show(answer, fallback(question, prompt.evidence, language), replace=True)


def _guardrail(action: str, unsupported: list[str], removed: list[dict], repaired: list[dict]) -> dict:
    """What the guardrails did: the facts that stopped an attempt, the sentences removed, the
    sentences repaired (as the model wrote them, and how: completed, relabelled)."""
    return {"action": action, "unsupported": unsupported, **({"claims_removed": removed} if removed else {}),
            **({"claims_repaired": repaired} if repaired else {})}


def _generate(generator, messages, guard, gate, answer, max_new_tokens, cancel, *, replace):
    """One generation attempt through the guards; stops the model at the first bad fact.
    The fact guard passes words whose facts the evidence states; the claim gate, if any,
    then passes whole sentences it judges supported."""
    stats = GenerationStats()
    stream = generator.stream(messages, max_new_tokens=max_new_tokens, cancel=cancel, stats=stats)
    first = True
    try:
        for piece in stream:
            shown = guard.feed(piece)
            if guard.violation is not None:
                break
            if shown and gate is not None:
                shown = gate.feed(shown)
            if shown:
                yield from _show(answer, shown, replace=replace and first)
                first = False
    finally:
        stream.close()  # ends the model run when we stop early or our caller goes away
        answer.stats.prompt_tokens += stats.prompt_tokens
        answer.stats.tokens_generated += stats.tokens_generated
    rest = guard.finish() if guard.violation is None else ""
    if gate is not None and guard.violation is None:
        rest = gate.feed(rest) + gate.finish()
    if rest:
        yield from _show(answer, rest, replace=replace and first)
    elif first and replace and guard.violation is None:
        yield from _show(answer, "", replace=True)  # an empty retry still withdraws the old text


def _show(answer: Answer, text: str, *, replace: bool) -> Iterator[TokenEvent]:
    if answer.first_token_at is None and text:
        answer.first_token_at = time.perf_counter()
    answer.text = text if replace else answer.text + text
    yield TokenEvent(text, replace=replace)


def fallback(question: str, evidence: list[Evidence], language: str = "en") -> str:
    """A reply quoted from the evidence: the sentences sharing most words with the question,
    each cited, led in language; the hand-off reply when there is no evidence to quote. Text
    written for the shop's staff (an agents' section, "tell the customer ...") is never
    quoted to a shopper."""
    wanted = _content_words(question)
    scored = []
    for n, item in enumerate(evidence, 1):
        if addresses_staff(item.title):
            continue  # a section for agents ("Returns > Internal notes"): none of it is for the shopper
        # The quoted text, as the model saw it: instruction-like lines are already gone.
        for position, sentence in enumerate(_sentences(quote(item.text))):
            if addresses_staff(sentence):
                continue
            overlap = len(wanted & _content_words(sentence))
            if overlap:
                scored.append((-overlap, n, position, sentence))
    # Quoting sentences that share a word or two with the question is not an answer to it.
    scored = [s for s in scored if -s[0] * 2 >= len(wanted)]
    if not scored:
        return say("handoff", language)
    best = sorted(sorted(scored)[:FALLBACK_SENTENCES], key=lambda s: (s[1], s[2]))
    return " ".join([say("fallback_lead", language)] + [f"{sentence} [{n}]" for _, n, _, sentence in best])


def _sentences(text: str) -> list[str]:
    lines = [line.strip(" -*#\t") for line in text.splitlines()]
    parts = [p.strip() for line in lines if line for p in re.split(r"(?<=[.!?])\s+", line)]
    return [p if p.endswith((".", "!", "?")) else p + "." for p in parts if len(p.split()) >= 2]


def _content_words(text: str) -> set[str]:
    # A crude stem (drop a final s) so "returns" meets "return".
    return {w.rstrip("s") for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1}
