"""Prometheus metrics for `GET /metrics`: requests and their latency, chat turns, time to
first token, tokens, offers, and how many turns are waiting or running.

Metrics live in the process-wide registry, as Prometheus clients expect; several apps in one
process (tests) share them, so readers compare before and after rather than absolutes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatbot.errors import DeskError
from shopcore.schemas import DoneEvent, Event, OfferEvent, TokenEvent

REQUESTS = Counter("chatbot_http_requests_total", "HTTP requests answered",
                   ["method", "route", "status"])
REQUEST_SECONDS = Histogram("chatbot_http_request_seconds", "HTTP request duration, to the last byte",
                            ["method", "route"],
                            buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
TURNS = Counter("chatbot_turns_total", "chat turns finished, by how they ended", ["mode", "state"])
TTFT_SECONDS = Histogram("chatbot_time_to_first_token_seconds", "request start to first answer token",
                         buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120))
TOKENS = Counter("chatbot_generated_tokens_total", "answer tokens generated")
OFFERS = Counter("chatbot_offers_total", "retention offers made", ["kind"])
RATE_LIMITED = Counter("chatbot_rate_limited_total", "requests refused with 429")
BUSY_REFUSED = Counter("chatbot_busy_refused_total", "chat requests refused with 503 before they started: every answer slot taken")
CHATS_IN_FLIGHT = Gauge("chatbot_chats_in_flight", "chat turns accepted and not yet finished")
QUEUE_DEPTH = Gauge("chatbot_generation_queue_depth", "answers waiting for a slot in the model's batch")
GENERATING = Gauge("chatbot_generation_running", "answers being generated in the model's batch")


def watch_queue(generator) -> None:
    """Report the generator's queue, when it keeps one (the batching worker's `load` is
    (running, waiting)); a remote backend's queue is its own to report."""
    worker = getattr(generator, "worker", None)
    if worker is not None and hasattr(worker, "load"):
        QUEUE_DEPTH.set_function(lambda: worker.load[1])
        GENERATING.set_function(lambda: worker.load[0])


def observe_turn(events: Iterator[Event], mode: str, started: float, tokens_of) -> Iterator[Event]:
    """Pass a turn's events through unchanged, recording TTFT, tokens, offers and outcome.

    `tokens_of(reply)` returns how many tokens the answer took (read from the store).
    """
    CHATS_IN_FLIGHT.inc()
    state, first_token = "cancelled", True
    try:
        for event in events:
            if isinstance(event, TokenEvent) and first_token:
                TTFT_SECONDS.observe(time.perf_counter() - started)
                first_token = False
            elif isinstance(event, OfferEvent):
                OFFERS.labels(event.offer.kind).inc()
            elif isinstance(event, DoneEvent):
                state = event.reply.state
                TOKENS.inc(tokens_of(event.reply) or 0)
            yield event
    except DeskError:
        state = "refused"
        raise
    except Exception:
        state = "failed"
        raise
    finally:
        # Closing this generator (a client that left) must close the pipeline's turn too,
        # so it records the cancellation now rather than whenever it is garbage-collected.
        events.close()
        CHATS_IN_FLIGHT.dec()
        TURNS.labels(mode, state).inc()


def metrics_response() -> Response:
    """The Prometheus text exposition of every metric."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """Count every HTTP request and time it to its last byte (streams included).

    Routes are labelled by their template (`/v1/conversations/{conversation_id}`), never
    the raw path, so label cardinality stays bounded whatever clients send.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) if route is not None else None
            label = template if template and not template.startswith("/{") else "other"
            REQUESTS.labels(scope["method"], label, str(status)).inc()
            REQUEST_SECONDS.labels(scope["method"], label).observe(time.perf_counter() - started)
