"""One shopper message through the desk, in the seven steps of shared/DESIGN.md.

`turn()` streams events (risk, sources, tokens, offer, done) so the CLI, the API and the UI
all show the answer as it is written; `reply()` runs a turn to the end for callers that
only want the result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from chatbot.desk import Desk
from chatbot.errors import InvalidMessage
from chatbot.llm.generation import GenerationStats
from chatbot.offers.ledger import make_offer
from chatbot.offers.wording import describe
from chatbot.prompt import build_prompt
from chatbot.risk.scoring import score_turn
from chatbot.schemas import (
    ChatRequest,
    DoneEvent,
    Event,
    OfferEvent,
    Reply,
    RiskEvent,
    Source,
    SourcesEvent,
    TokenEvent,
)
from chatbot.store.conversations import record_answer, start_turn
from knowledge.orders import order_evidence

APOLOGY = "Sorry, something went wrong while I was answering. Please try again in a moment."


def turn(request: ChatRequest, desk: Desk, cancel: threading.Event | None = None) -> Iterator[Event]:
    """Answer one shopper message, yielding events as they happen; the last is DoneEvent."""
    started = time.perf_counter()
    settings = desk.settings
    text = validate_message(request.text, settings.max_message_chars)
    cancel = cancel or threading.Event()

    # 1. Load the conversation and who the shopper is; the message is stored before answering.
    start = start_turn(desk.sessions, text, request.conversation_id, request.customer_id,
                       request.channel, settings.history_turns)
    if start.state != "bot":  # a person has taken this conversation over
        yield DoneEvent(Reply("", [], None, None, start.conversation_id, _ms(started), state="agent"))
        return

    # 2. Score churn risk: this message and the conversation's trajectory, stored per message.
    risk = score_turn(desk.risk, desk.sessions, start, text, request.customer_id)
    yield RiskEvent(risk)

    # 3. Evidence: the shop's documents, and the signed-in shopper's own orders.
    evidence = order_evidence(desk.sessions, request.customer_id, text, desk.retriever.relevance)
    evidence += desk.retriever.evidence(text, settings.top_k)

    # 4. The prompt, within the token budget.
    prompt = build_prompt(text, evidence, start.history, tokenizer=desk.generator.tokenizer,
                          shop=settings.shop_name, tone=settings.shop_tone,
                          budget=settings.prompt_token_budget)
    sources = [Source(e.doc_id, e.title, round(e.score, 4)) for e in prompt.evidence]
    yield SourcesEvent(sources)

    # 5. Generate, streaming tokens to the caller.
    stats, pieces, ttft_ms = GenerationStats(), [], None
    state, error = "ok", None
    try:
        for piece in desk.generator.stream(prompt.messages, max_new_tokens=settings.max_new_tokens,
                                           cancel=cancel, stats=stats):
            ttft_ms = ttft_ms if ttft_ms is not None else _ms(started)
            pieces.append(piece)
            yield TokenEvent(piece)
        if cancel.is_set():
            state = "cancelled"
    except GeneratorExit:  # the caller went away mid-answer: record it, then stop
        cancel.set()
        _store(desk, start, "".join(pieces), "cancelled", None, sources, stats, ttft_ms, started)
        raise
    except Exception as exc:
        state, error = "error", f"{type(exc).__name__}: {exc}"
    answer = "".join(pieces).strip() if state != "error" else APOLOGY

    # 6. Retention offer by the shop's policy, recorded once; its words come from the record.
    offer = make_offer(desk.policy, desk.sessions, start, request.customer_id)
    if offer is not None:
        answer = f"{answer}\n\n{describe(offer)}".strip()

    # 7. Store the answer with its sources, timings and model, whatever happened.
    message_id = _store(desk, start, answer, state, error, sources, stats, ttft_ms, started)
    if offer is not None:  # streamed only once stored, so a client leaving now loses nothing
        yield TokenEvent(f"\n\n{describe(offer)}")
        yield OfferEvent(offer)
    yield DoneEvent(Reply(answer, sources, risk, offer, start.conversation_id, _ms(started),
                          message_id, state))


def reply(request: ChatRequest, desk: Desk) -> Reply:
    """Run a turn to the end and return the reply."""
    for event in turn(request, desk):
        if isinstance(event, DoneEvent):
            return event.reply
    raise RuntimeError("a turn ended without a reply")


def validate_message(text: str, max_chars: int) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidMessage("the message is empty")
    if len(text) > max_chars:
        raise InvalidMessage(f"the message is {len(text)} characters; the limit is {max_chars}")
    return text


def _store(desk, start, answer, state, error, sources, stats, ttft_ms, started) -> int:
    return record_answer(
        desk.sessions, start.conversation_id, start.message_id, answer, state=state, error=error,
        sources=[{"doc_id": s.doc_id, "title": s.title, "score": s.score} for s in sources],
        model_id=desk.generator.model_id, adapter_version=desk.generator.adapter_version,
        ttft_ms=ttft_ms, latency_ms=_ms(started), prompt_tokens=stats.prompt_tokens,
        tokens_generated=stats.tokens_generated,
    )


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
