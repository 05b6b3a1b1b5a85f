"""A pipeline turn driven from async HTTP handlers, as Server-Sent Events or run to the end.

The pipeline is a plain (blocking) generator, so each step runs in a worker thread from a
dedicated pool, leaving the event loop free for other shoppers and the console. When a
streaming client goes away, the turn is cancelled and closed: the model stops and the
pipeline records the answer as cancelled.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict

import anyio
from sse_starlette import ServerSentEvent

from chatbot.errors import DeskError
from shopcore.schemas import DoneEvent, Event, OfferEvent, Reply, RiskEvent, SourcesEvent, TokenEvent

log = logging.getLogger(__name__)
END = object()


async def next_event(events: Iterator[Event], limiter: anyio.CapacityLimiter):
    """The turn's next event, or END; the blocking step runs in a worker thread."""
    return await anyio.to_thread.run_sync(next, events, END, limiter=limiter)


async def run_to_reply(first: Event, events: Iterator[Event], limiter: anyio.CapacityLimiter) -> Reply:
    """Run the rest of a turn (after its first event) in one worker thread; return its reply."""

    def drain() -> Reply:
        reply = first.reply if isinstance(first, DoneEvent) else None
        for event in events:  # to the very end, so the turn's bookkeeping runs now
            if isinstance(event, DoneEvent):
                reply = event.reply
        if reply is None:
            raise RuntimeError("a turn ended without a reply")
        return reply

    return await anyio.to_thread.run_sync(drain, limiter=limiter)


async def close_turn(events: Iterator[Event], cancel: threading.Event,
                     limiter: anyio.CapacityLimiter) -> None:
    """Stop the model and close the turn, even while the request is being cancelled."""
    cancel.set()
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(events.close, limiter=limiter)


async def sse_events(events: Iterator[Event], first: Event, cancel: threading.Event,
                     limiter: anyio.CapacityLimiter, on_end=lambda: None) -> AsyncIterator[ServerSentEvent]:
    """The turn's events as SSE, starting with the already-fetched first event; `on_end`
    runs once the turn is closed, however it ended."""
    try:
        event = first
        while event is not END:
            name, data = payload(event)
            yield ServerSentEvent(json.dumps(data, ensure_ascii=False, default=str), event=name)
            event = await next_event(events, limiter)
    except DeskError as exc:  # the response has started: report it in the stream
        yield ServerSentEvent(json.dumps({"detail": str(exc), "status": exc.status}), event="error")
    except Exception:
        log.exception("a streamed turn failed")
        yield ServerSentEvent(json.dumps({"detail": "internal error", "status": 500}), event="error")
    finally:
        # Runs on normal end (a no-op then) and when the client disconnects (cancellation).
        await close_turn(events, cancel, limiter)
        on_end()


def payload(event: Event) -> tuple[str, dict]:
    """The SSE event name and JSON data for a pipeline event."""
    if isinstance(event, TokenEvent):
        return "token", asdict(event)
    if isinstance(event, SourcesEvent):
        return "sources", {"sources": [asdict(s) for s in event.sources]}
    if isinstance(event, RiskEvent):
        return "risk", {**asdict(event.risk), "reasons": list(event.risk.reasons)}
    if isinstance(event, OfferEvent):
        return "offer", asdict(event.offer)
    if isinstance(event, DoneEvent):
        return "done", event.reply.to_json()
    raise TypeError(f"not a pipeline event: {event!r}")
