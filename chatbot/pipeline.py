"""One shopper message through the desk, in the seven steps of shared/DESIGN.md.

`turn()` streams events (risk, sources, tokens, offer, done) so the CLI, the API and the UI
all show the answer as it is written; `reply()` runs a turn to the end for callers that
only want the result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import asdict

from chatbot.answer import Answer, respond
from chatbot.claims import ClaimChecker
from chatbot.desk import Desk
from chatbot.errors import Busy, InvalidMessage
from chatbot.inbox import hand_off
from chatbot.offers.ledger import make_offer
from chatbot.offers.wording import describe
from chatbot.privacy import mask
from chatbot.messages import language_note, say
from chatbot.prompt import SYSTEM_RULES, Prompt, build_prompt
from chatbot.question import Question, understand
from chatbot.risk.scoring import score_turn
from chatbot.translation import translate
from shopcore.schemas import (
    ChatRequest,
    DoneEvent,
    Event,
    Evidence,
    OfferEvent,
    Reply,
    RiskEvent,
    Source,
    SourcesEvent,
    TokenEvent,
)
from chatbot.conversations import record_answer, start_turn
from knowledge.focus import focus
from knowledge.orders import foreign_order_numbers, order_evidence

APOLOGY = say("apology", "en")  # in English; a turn says it in the shopper's language


def turn(request: ChatRequest, desk: Desk, cancel: threading.Event | None = None) -> Iterator[Event]:
    """Answer one shopper message, yielding events as they happen; the last is DoneEvent."""
    started = time.perf_counter()
    settings = desk.settings
    text = validate_message(request.text, settings.max_message_chars)
    cancel = cancel or threading.Event()

    # 1. Load the conversation and who the shopper is; the message is stored before answering,
    #    with card numbers and other personal data masked (the raw text is never written).
    text = mask(text, settings)
    start = start_turn(desk.sessions, text, request.conversation_id, request.customer_id,
                       request.channel, settings.history_turns)
    if start.state != "bot":  # a person has taken this conversation over
        yield DoneEvent(Reply("", [], None, None, start.conversation_id, _ms(started), state="agent"))
        return

    # Steps 2-5 either finish or leave an error/cancelled record: never a message without one.
    answer, prompt, risk, state, error, question = Answer(), None, None, "ok", None, None
    language = settings.shop_languages[0]  # until the message's own is known
    generator = desk.generator  # the one that answers (step 4 may pick the base model)
    try:
        # 2. Score churn risk: this message and the conversation's trajectory, stored per message.
        risk = score_turn(desk.risk, desk.sessions, start, text, request.customer_id)
        yield RiskEvent(risk)

        # 3. The question as meant in the conversation (standalone, typos corrected, in the
        #    documents' language), then its evidence: the shop's documents and the signed-in
        #    shopper's own orders, cut to the sentences that answer it.
        question = understand(text, start.history, retriever=desk.retriever, generator=desk.translating_generator,
                              settings=settings)
        language = question.language.code
        evidence = gather_evidence(question, request.customer_id, desk.retriever, desk.sessions, settings)

        # 4. The prompt, within the token budget. The answer is written in the documents'
        #    language (the shop's adapter's), and translated in step 5 if the shopper's is another.
        prompt = build_prompt(question.asked, evidence, shoppers_turns(start.history, question), tokenizer=generator.tokenizer,
                              shop=settings.shop_name, tone=settings.shop_tone,
                              budget=settings.prompt_token_budget)
        yield SourcesEvent(sources_of(prompt.evidence))

        # 5. The answer: a hand-off, or generated and checked fact by fact and claim by claim,
        #    streaming to the caller.
        foreign = foreign_order_numbers(desk.sessions, request.customer_id, text)
        note = language_note(settings.shop_languages)
        if question.language.unsupported and not any(note in m["content"] for m in start.history):
            yield from _say(answer, note + "\n\n")  # once a conversation, in the shop's first language
        if foreign:  # an order that is not the shopper's: never answered with another order's details
            answer.guardrail = {"action": "order_not_found", "reason": "order_not_found", "numbers": foreign}
            yield from _say(answer, say("order_not_found", language, number=foreign[0]))
        else:
            claims = claim_checker(question, prompt.evidence, desk.retriever, settings)
            answering = respond(question.own, evidence, prompt, generator, answer, cancel=cancel,
                                max_new_tokens=settings.max_new_tokens, retries=settings.guardrail_retries,
                                coverage_threshold=settings.coverage_threshold, claims=claims,
                                language=language)
            if language == settings.shop_languages[0]:
                yield from answering
            else:
                yield from _translated(answering, answer, settings.shop_languages[0], language,
                                       desk.translating_generator, settings.max_new_tokens)
        state = "cancelled" if cancel.is_set() else "ok"
    except GeneratorExit:  # the caller went away mid-turn: record it, then stop
        cancel.set()
        _store(desk, generator, start, answer, "cancelled", None, prompt, started, question)
        raise
    except Busy:  # too many shoppers waiting: say so now rather than queue without end
        _store(desk, generator, start, answer, "error", "busy: the model queue is full", prompt, started, question)
        raise
    except Exception as exc:
        state, error = "error", f"{type(exc).__name__}: {exc}"
        answer.text, answer.guardrail = say("apology", language), None

    # 6. Retention offer by the shop's policy, recorded once; its words come from the record.
    offer = make_offer(desk.policy, desk.sessions, start, request.customer_id)
    if offer is not None:  # added after the fact check: its words come from the stored record
        answer.text = f"{answer.text.strip()}\n\n{describe(offer, language)}".strip()

    # 7. Store the answer with its sources, timings and model, whatever happened.
    message_id = _store(desk, generator, start, answer, state, error, prompt, started, question)
    # A hand-off (the answer's rules, the offer policy's, or the shopper asking for a person)
    # opens a request that waits in the console's queue until a person claims it.
    hand_off(desk.sessions, start.conversation_id, answer.guardrail, offer, text, language)
    if offer is not None:  # streamed only once stored, so a client leaving now loses nothing
        yield TokenEvent(f"\n\n{describe(offer, language)}")
        yield OfferEvent(offer)
    yield DoneEvent(Reply(answer.text.strip(), sources_of(_evidence(prompt), answer), risk, offer,
                          start.conversation_id, _ms(started), message_id, state, answer.guardrail))


def reply(request: ChatRequest, desk: Desk) -> Reply:
    """Run a turn to the end and return the reply."""
    for event in turn(request, desk):
        if isinstance(event, DoneEvent):
            return event.reply
    raise RuntimeError("a turn ended without a reply")


def gather_evidence(question: Question, customer_id: int | None, retriever, sessions, settings) -> list[Evidence]:
    """Step 3's evidence for a question: the shopper's orders (named ones first), then the
    documents' best chunks for its standalone query, and the best one for each other query
    (the message as typed) if not among them, each chunk scored by the query it answers best,
    cut to the sentences that answer it (knowledge/focus.py)."""
    evidence = order_evidence(sessions, customer_id, question.query, retriever.relevance)
    found: dict[tuple[str, str], Evidence] = {}
    for n, query in enumerate(question.queries):
        for item in retriever.evidence(query, settings.top_k if n == 0 else 1):
            key = (item.doc_id, item.text)  # found by both: as relevant as the better query says
            if key not in found or found[key].score < item.score:
                found[key] = item
    evidence += list(found.values())
    return focus(question.query, evidence, retriever, settings.focus_sentences)


def shoppers_turns(history: list[dict[str, str]], question: Question) -> list[dict[str, str]]:
    """The history the model reads: for a question that leans on the ones before
    (`Question.follows`), the shopper's earlier messages, not the desk's replies (a 0.5B model
    copied its previous reply, a quoted fallback or another product's care line, into the next
    answer; the shopper's own words are what a follow-up leans on). For one that stands alone,
    none: after four unrelated turns, "and the 3-person version?", asked as "how much is the
    Aspen 3P Backpacking Tent?", was answered with the tent's SKU; alone, with its price."""
    if not question.follows:
        return []
    return [{"role": "user", "content": m["content"]} for m in history if m["role"] == "user"]


def claim_checker(question: Question, evidence: list[Evidence], retriever, settings) -> ClaimChecker:
    """The sentence-by-sentence check of an answer to question from evidence (answers are
    written in the documents' language, the embedder's, whatever the shopper's)."""
    rules = SYSTEM_RULES.format(shop=settings.shop_name, tone=settings.shop_tone)
    return ClaimChecker(question.query, evidence, retriever, rules)


def validate_message(text: str, max_chars: int) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidMessage("the message is empty")
    if len(text) > max_chars:
        raise InvalidMessage(f"the message is {len(text)} characters; the limit is {max_chars}")
    return text


def sources_of(evidence: list[Evidence], answer: Answer | None = None) -> list[Source]:
    """The prompt's evidence as sources, numbered as the answer cites them."""
    cited = answer.cited(len(evidence)) if answer is not None else set()
    return [Source(e.doc_id, e.title, round(e.score, 4), n, n in cited)
            for n, e in enumerate(evidence, 1)]


def _store(desk, generator, start, answer: Answer, state, error, prompt, started, question: Question | None) -> int:
    ttft_ms = None if answer.first_token_at is None else (answer.first_token_at - started) * 1000
    return record_answer(
        desk.sessions, start.conversation_id, start.message_id, answer.text.strip(), state=state,
        error=error, sources=[asdict(s) for s in sources_of(_evidence(prompt), answer)],
        model_id=generator.model_id, adapter_version=generator.adapter_version,
        ttft_ms=ttft_ms, latency_ms=_ms(started), prompt_tokens=answer.stats.prompt_tokens,
        tokens_generated=answer.stats.tokens_generated, guardrail=answer.guardrail,
        question=None if question is None else question.query,
    )


def _evidence(prompt: Prompt | None) -> list[Evidence]:
    return [] if prompt is None else prompt.evidence  # None: the turn failed before step 4


def _translated(answering: Iterator[TokenEvent], answer: Answer, documents: str, language: str,
                translator, max_new_tokens: int) -> Iterator[TokenEvent]:
    """Step 5 for a shopper writing another language than the documents': the answer is
    written and checked in the documents' language, unseen, then shown in the shopper's
    (chatbot/translation.py). The desk's own words (the hand-off) are already in it."""
    for _ in answering:
        pass
    # What the shopper reads starts now: its first words are timed from here.
    written, answer.text, answer.first_token_at = answer.text.strip(), "", None
    if (answer.guardrail or {}).get("action") == "handoff" or not written:
        yield from _say(answer, written)
        return
    translated = translate(written, documents, language, translator, max_new_tokens=max_new_tokens)
    if translated is None:  # it changed a number: the answer as written, said to be so
        answer.guardrail = (answer.guardrail or {"action": "untranslated"}) | {"translation": "failed"}
        translated = f"{say('untranslated', language)}\n\n{written}"
    yield from _say(answer, translated)


def _say(answer: Answer, text: str) -> Iterator[TokenEvent]:
    """The desk's own words, streamed as one piece."""
    if answer.first_token_at is None:
        answer.first_token_at = time.perf_counter()
    answer.text += text
    yield TokenEvent(text)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
