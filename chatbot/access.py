"""Who may call the HTTP API, how often, and with how much: publishable widget keys per
page origin (enforced with CORS and checked again on the server), rate limits per key and
per client address (and per agent name for console logins), a bound on request bodies, and
how many shopper turns may be in flight at once.

Widget keys are publishable: they sit in the shop's page source, so they identify the shop
and its allowed origins, never a shopper. Identity comes from the signed customer token.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass

from fastapi import HTTPException, Request
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatbot.metrics import RATE_LIMITED
from shopcore.settings import Settings

KEY_HEADER = "x-widget-key"


def allowed_origins(settings: Settings) -> list[str]:
    """Every page origin any widget key may be used from; the CORS allow-list."""
    return sorted({origin.rstrip("/") for origins in settings.widget_keys.values() for origin in origins})


def check_widget_key(request: Request, settings: Settings) -> str | None:
    """The caller's widget key, after checking that the page's origin may use it.

    Server-to-server callers (no Origin header) and pages served by the desk itself need
    no key; a browser page on another origin needs a key listing that origin.
    """
    key = request.headers.get(KEY_HEADER)
    if key is not None and key not in settings.widget_keys:
        raise HTTPException(401, "unknown widget key")
    origin = request.headers.get("origin")
    if origin is None or origin == _own_origin(request):
        return key
    if key is None:
        raise HTTPException(401, f"requests from {origin} need a widget key (X-Widget-Key)")
    if origin.rstrip("/") not in {o.rstrip("/") for o in settings.widget_keys[key]}:
        raise HTTPException(403, f"widget key is not allowed on {origin}")
    return key


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


@dataclass
class RateLimits:
    """Chat requests per client address and per widget key, in a moving window."""

    per_address: list
    per_key: list
    limiter: MovingWindowRateLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        storage = storage_from_string(settings.rate_limit_storage)
        return cls(parse_many(settings.rate_limit_per_address), parse_many(settings.rate_limit_per_key),
                   MovingWindowRateLimiter(storage))

    def hit(self, address: str, key: str | None) -> None:
        """Count one chat request (from the API or the chat page); raise 429 with Retry-After
        once a limit is passed."""
        checks = [(limit, "address", address) for limit in self.per_address]
        if key is not None:
            checks += [(limit, "key", key) for limit in self.per_key]
        try:
            _hit(self.limiter, checks)
        except HTTPException:
            RATE_LIMITED.inc()
            raise


@dataclass
class LoginLimits:
    """Console login attempts per client address and per agent name, so neither guessing one
    agent's password from many addresses nor many names from one address goes fast."""

    limits: list
    limiter: MovingWindowRateLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(parse_many(settings.login_rate_limit),
                   MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage)))

    def hit(self, address: str, username: str) -> None:
        """Count one attempt; raise 429 with Retry-After once a limit is passed."""
        name = username.strip().casefold()
        _hit(self.limiter, [(limit, kind, who) for limit in self.limits
                            for kind, who in (("login address", address), ("login name", name))])


def _hit(limiter: MovingWindowRateLimiter, checks: list[tuple]) -> None:
    for limit, kind, who in checks:
        if not limiter.hit(limit, kind, who):
            reset_at, _ = limiter.get_window_stats(limit, kind, who)
            retry_after = max(1, math.ceil(reset_at - time.time()))
            raise HTTPException(
                429, f"too many requests from this {kind.removeprefix('login ')} (limit {limit}); "
                f"retry in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` under the given path prefixes with a 413.

    A declared Content-Length is checked up front; a chunked body is read up to the limit
    and then replayed to the app, so no route ever sees an oversized body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, prefixes: tuple[str, ...]):
        self.app, self.max_bytes, self.prefixes = app, max_bytes, prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                return await self._refuse(send)
            return await self.app(scope, receive, send)
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return await self._refuse(send)
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body over the {self.max_bytes}-byte limit"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class TurnSlots:
    """Shopper turns in flight at once, from the API and the chat page together.

    The model holds CHATBOT_MAX_BATCH answers in its batch and CHATBOT_MAX_QUEUE waiting;
    a turn beyond that would store the shopper's message, start streaming and only then
    fail as busy. Taking a slot first lets the desk refuse it up front instead: a 503 with
    Retry-After before anything is stored or streamed.
    """

    def __init__(self, size: int):
        self.size = size
        self._used = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> TurnSlots:
        return cls(settings.max_batch + settings.max_queue)

    def take(self) -> Slot | None:
        """A slot for one turn, or None when all are in use."""
        with self._lock:
            if self._used >= self.size:
                return None
            self._used += 1
        return Slot(self)

    def _give_back(self) -> None:
        with self._lock:
            self._used -= 1

    @property
    def in_use(self) -> int:
        return self._used


class Slot:
    """One taken slot; `release()` gives it back, once however often it is called (a turn's
    end, its error and its cancellation may all try)."""

    def __init__(self, slots: TurnSlots):
        self._slots, self._released, self._lock = slots, False, threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._slots._give_back()


def busy_refusal() -> HTTPException:
    return HTTPException(503, "every answer slot is taken; please retry shortly", headers={"Retry-After": "2"})
