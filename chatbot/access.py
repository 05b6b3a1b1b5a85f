"""Who may call the HTTP API, how often, and with how much: publishable widget keys per
page origin (enforced with CORS and checked again on the server), rate limits per key and
per client address, and a bound on request bodies.

Widget keys are publishable: they sit in the shop's page source, so they identify the shop
and its allowed origins, never a shopper. Identity comes from the signed customer token.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

from fastapi import HTTPException, Request
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        """Count one request; raise 429 with Retry-After once a limit is passed."""
        checks = [(limit, "address", address) for limit in self.per_address]
        if key is not None:
            checks += [(limit, "key", key) for limit in self.per_key]
        for limit, kind, who in checks:
            if not self.limiter.hit(limit, kind, who):
                reset_at, _ = self.limiter.get_window_stats(limit, kind, who)
                retry_after = max(1, math.ceil(reset_at - time.time()))
                raise HTTPException(
                    429, f"too many requests from this {kind} (limit {limit}); retry in {retry_after} s",
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
