"""HTTP API: chat (JSON or Server-Sent Events), a shopper's conversation, the widget script,
health and metrics. `create_app` assembles it with the agent console and the Gradio page.

Routes call the pipeline directly; domain errors become HTTP errors here and nowhere else.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import logging
import threading
import time
import weakref
from contextlib import asynccontextmanager
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sse_starlette import EventSourceResponse
from starlette.middleware.sessions import SessionMiddleware

from chatbot.access import (
    BodySizeLimit,
    LoginLimits,
    RateLimits,
    TurnSlots,
    allowed_origins,
    busy_refusal,
    check_widget_key,
)
from chatbot import inbox, live
from chatbot.console.routes import current_agent
from chatbot.console.routes import router as console_router
from chatbot.desk import Desk
from chatbot.errors import DeskError
from chatbot.identity import customer_from_token
from chatbot.metrics import (
    BUSY_REFUSED,
    RequestMetrics,
    metrics_response,
    observe_turn,
    watch_queue,
)
from chatbot.notify import start_worker as start_notices
from chatbot.offers.lifecycle import redeem_offer
from chatbot.pipeline import turn
from shopcore.schemas import ChatRequest
from shopcore.settings import Settings, get_settings
from chatbot.conversations import close_interrupted_turns, conversation_transcript
from chatbot.customer_data import delete_customer, delete_old_conversations, export_customer
from shopcore.store.models import Message
from chatbot.streaming import next_event, run_to_reply, sse_events
from chatbot.ui import mount_ui

STATIC_DIR = Path(__file__).resolve().parent / "static"
DATABASE_RETRY_AFTER_S = 5
log = logging.getLogger(__name__)
CONVERSATION_ID = r"^[0-9a-f]{32}$"
router = APIRouter()


class ChatBody(BaseModel):
    message: str = Field(description="what the shopper wrote", max_length=100_000)
    conversation_id: str | None = Field(None, pattern=CONVERSATION_ID,
                                        description="continue this conversation")
    customer_token: str | None = Field(None, max_length=4096,
                                       description="signed shopper identity from the shop's backend")

    @field_validator("message")
    @classmethod
    def _storable(cls, text: str) -> str:
        # Both would fail only at the database, after the shopper was told nothing useful.
        if "\x00" in text:
            raise ValueError("the message contains a NUL character")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the message is not valid Unicode text") from None
        return text


class SourceOut(BaseModel):
    model_config = ConfigDict(extra="allow")  # the pipeline may say more than the contract
    doc_id: str
    title: str
    score: float


class RiskOut(BaseModel):
    score: float
    level: str
    reasons: list[str]


class ChatReply(BaseModel):
    model_config = ConfigDict(extra="allow")
    answer: str
    sources: list[SourceOut]
    risk: RiskOut | None
    offer: dict | None = Field(description="the retention offer made with this answer, if any")
    conversation_id: str
    latency_ms: float
    message_id: int | None
    state: str = Field(description="ok | error | cancelled | agent (a person has taken over)")


ERRORS = {status: {"description": text, "content": {"application/json": {"example": {"detail": text}}}}
          for status, text in [(401, "unknown widget key, or a key is needed from this origin"),
                               (403, "the widget key is not allowed on this page's origin"),
                               (404, "no such conversation or offer for this shopper"),
                               (413, "request body too large"),
                               (422, "the message or a field is not acceptable"),
                               (429, "rate limit passed; see Retry-After"),
                               (503, "the model is busy; see Retry-After")]}


async def rate_limited(request: Request) -> str | None:
    """Check the widget key against the page origin and count the request; the key or None."""
    settings = request.app.state.desk.settings
    key = check_widget_key(request, settings)
    request.app.state.rate_limits.hit(request.client.host if request.client else "unknown", key)
    return key


def signed_in(desk: Desk, token: str | None) -> int | None:
    """The customer a shopper token names, under the desk's secret and lifetime bound; None: anonymous."""
    return customer_from_token(token, desk.settings.secret_key.get_secret_value(),
                               desk.settings.customer_token_max_ttl_s)


def http_error(exc: DeskError) -> HTTPException:
    headers = {"Retry-After": "2"} if exc.status == 503 else None
    return HTTPException(exc.status, str(exc), headers=headers)


@router.post("/v1/chat", response_model=ChatReply, responses={
    200: {"description": "the reply as JSON, or with `Accept: text/event-stream` a stream of "
                         "`sources`, `risk`, `token`, `offer` and `done` events (then `error` "
                         "if the turn failed after streaming began)",
          "content": {"text/event-stream": {"schema": {"type": "string"}}}},
    **ERRORS})
async def chat(body: ChatBody, request: Request, key: Annotated[str | None, Depends(rate_limited)]):
    """Answer one shopper message."""
    started = time.perf_counter()
    desk = request.app.state.desk
    customer_id = signed_in(desk, body.customer_token)
    streaming = "text/event-stream" in request.headers.get("accept", "")
    slot = request.app.state.turn_slots.take()
    if slot is None:  # refused before anything is stored or streamed
        BUSY_REFUSED.inc()
        raise busy_refusal()
    cancel = threading.Event()
    chat_request = ChatRequest(body.message, body.conversation_id, customer_id,
                               channel="widget" if key else "api")
    events = observe_turn(turn(chat_request, desk, cancel), "sse" if streaming else "json",
                          started, lambda reply: _tokens(desk, reply.message_id))
    # The slot is given back when the turn ends, fails or is cancelled, and at the latest
    # when its events are garbage (a stream the client left before it began).
    weakref.finalize(events, slot.release)
    limiter = request.app.state.chat_limiter
    try:
        # The first step validates and stores the message; its errors are proper HTTP errors.
        first = await next_event(events, limiter)
        if streaming:
            return EventSourceResponse(sse_events(events, first, cancel, limiter, slot.release), ping=15)
        reply = await run_to_reply(first, events, limiter)
    except DeskError as exc:
        slot.release()
        raise http_error(exc) from None
    slot.release()
    return reply.to_json()


def _tokens(desk, message_id: int | None) -> int:
    if message_id is None:
        return 0
    with desk.sessions() as session:
        message = session.get(Message, message_id)
        return (message.tokens_generated or 0) if message is not None else 0


@router.get("/v1/conversations/{conversation_id}", responses=ERRORS)
async def conversation(
    request: Request,
    conversation_id: Annotated[str, PathParam(pattern=CONVERSATION_ID)],
    customer_token: Annotated[str | None, Header(alias="X-Customer-Token", max_length=4096)] = None,
) -> dict:
    """A conversation with its messages: the shopper's own (by token), or any for an agent."""
    desk = request.app.state.desk
    check_widget_key(request, desk.settings)
    agent = await current_agent(request) is not None
    customer_id = signed_in(desk, customer_token)
    try:
        return await run_in_threadpool(conversation_transcript, desk.sessions, conversation_id,
                                       customer_id, agent=agent)
    except DeskError as exc:
        raise http_error(exc) from None


class ShopperBody(BaseModel):
    customer_token: str | None = Field(None, max_length=4096,
                                       description="signed shopper identity, as sent with the chat")


class ContactBody(ShopperBody):
    email: str = Field(max_length=320, description="where the shop may answer outside business hours")


class RatingBody(ShopperBody):
    score: int = Field(ge=1, le=5, description="1 (poor) to 5 (great)")
    comment: str | None = Field(None, max_length=2000)


ConversationId = Annotated[str, PathParam(pattern=CONVERSATION_ID)]


def handoff_status(desk: Desk, conversation_id: str, customer_id: int | None) -> dict:
    """The shopper's view of the conversation's hand-off (see inbox.shopper_status)."""
    return inbox.shopper_status(desk.sessions, conversation_id, customer_id, hours=desk.settings.profile.hours,
                                default_language=desk.settings.shop_languages[0])


async def _shopper_call(function, *args):
    try:
        return await run_in_threadpool(function, *args)
    except DeskError as exc:
        raise http_error(exc) from None


@router.get("/v1/conversations/{conversation_id}/handoff", responses=ERRORS)
async def handoff(request: Request, conversation_id: ConversationId,
                  _key: Annotated[str | None, Depends(rate_limited)],
                  customer_token: Annotated[str | None, Header(alias="X-Customer-Token", max_length=4096)] = None
                  ) -> dict:
    """Whether a person was asked for, the expected wait or when someone will answer, and
    whether the conversation can be rated; the words in the shopper's language."""
    desk = request.app.state.desk
    return await _shopper_call(handoff_status, desk, conversation_id, signed_in(desk, customer_token))


@router.post("/v1/conversations/{conversation_id}/handoff", responses=ERRORS)
async def ask_for_person(request: Request, conversation_id: ConversationId, body: ShopperBody,
                         _key: Annotated[str | None, Depends(rate_limited)]) -> dict:
    """The shopper asks for a person: a request waits in the console's queue (one at a time)."""
    desk = request.app.state.desk
    customer_id = signed_in(desk, body.customer_token)
    await _shopper_call(inbox.check_owner, desk.sessions, conversation_id, customer_id)  # theirs, or 404
    await _shopper_call(partial(inbox.request_person, desk.sessions, conversation_id, "shopper_asked",
                                actor="shopper"))
    return await _shopper_call(handoff_status, desk, conversation_id, customer_id)


@router.post("/v1/conversations/{conversation_id}/contact", responses={
    **ERRORS, 409: {"description": "nobody has been asked for in this conversation"}})
async def leave_contact(request: Request, conversation_id: ConversationId, body: ContactBody,
                        _key: Annotated[str | None, Depends(rate_limited)]) -> dict:
    """Leave an e-mail address with the open hand-off request, to be answered there."""
    desk = request.app.state.desk
    customer_id = signed_in(desk, body.customer_token)
    await _shopper_call(inbox.leave_contact, desk.sessions, conversation_id, customer_id, body.email)
    return await _shopper_call(handoff_status, desk, conversation_id, customer_id)


@router.post("/v1/conversations/{conversation_id}/rating", responses={
    **ERRORS, 409: {"description": "rated already, or a person is still on it"}})
async def rate_conversation(request: Request, conversation_id: ConversationId, body: RatingBody,
                            _key: Annotated[str | None, Depends(rate_limited)]) -> dict:
    """Rate a finished conversation (by the bot or a person) from 1 to 5, once."""
    desk = request.app.state.desk
    customer_id = signed_in(desk, body.customer_token)
    return await _shopper_call(inbox.rate, desk.sessions, conversation_id, customer_id, body.score, body.comment)


@router.get("/v1/conversations/{conversation_id}/live", responses={
    200: {"description": "server-sent events: `status` (the hand-off status), then `claimed`, "
                         "`agent_reply` (with its text), `resolved`, `returned_to_bot`, ... as they happen",
          "content": {"text/event-stream": {"schema": {"type": "string"}}}}, **ERRORS})
async def shopper_live(request: Request, conversation_id: ConversationId,
                       _key: Annotated[str | None, Depends(rate_limited)], after: str | None = None,
                       customer_token: Annotated[str | None, Header(alias="X-Customer-Token", max_length=4096)] = None):
    """The shopper's own conversation, live: a person's replies and the hand-off's changes
    (never agents' notes), from the database, past the cursor `after` (or Last-Event-ID)."""
    desk = request.app.state.desk
    customer_id = signed_in(desk, customer_token)
    await _shopper_call(inbox.check_owner, desk.sessions, conversation_id, customer_id)  # 404 before streaming
    cursor = live.Cursor.parse(request.headers.get("last-event-id") or after) or live.Cursor()
    return EventSourceResponse(live.stream(desk.sessions, cursor, conversation_id=conversation_id, shopper=True,
                                           status=partial(handoff_status, desk, conversation_id, customer_id),
                                           poll_s=live.SHOPPER_POLL_S),
                               ping=15)


class RedeemBody(BaseModel):
    customer_token: str = Field(max_length=4096, description="token of the customer the offer was made for")
    order_number: str | None = Field(None, max_length=64, pattern=r"^[\x21-\x7e]+$",
                                     description="the order the code was used on")


class OfferOut(BaseModel):
    code: str | None
    kind: str
    value: float
    unit: str
    terms: str
    expires_at: str | None
    state: str


@router.post("/v1/offers/{code}/redeem", response_model=OfferOut, responses={
    **ERRORS, 409: {"description": "the offer expired, was declined or is already used"}})
async def redeem(request: Request, body: RedeemBody,
                 code: Annotated[str, PathParam(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")],
                 _key: Annotated[str | None, Depends(rate_limited)]) -> dict:
    """Use a retention offer's code at the shop's checkout, once, for its own customer."""
    desk = request.app.state.desk
    customer_id = signed_in(desk, body.customer_token)
    try:
        offer = await run_in_threadpool(partial(redeem_offer, desk.sessions, code, customer_id=customer_id,
                                                order_number=body.order_number))
    except DeskError as exc:
        raise http_error(exc) from None
    return asdict(offer)


@router.get("/widget.js", include_in_schema=False)
async def widget_script(request: Request) -> Response:
    """The embeddable chat widget: one <script> tag on the shop's page, its title and greeting
    defaulting to the shop profile's (a page's data-title and data-greeting still win)."""
    settings = request.app.state.desk.settings
    defaults = json.dumps({"title": f"Chat with {settings.shop_name}", "greeting": settings.profile.greeting_text})
    defaults = defaults.replace("</", "<\\/")  # JSON inside a script: no closing tag can end it
    script = (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
    script = script.replace("var SHOP = {}; /* shop-defaults */", f"var SHOP = {defaults};", 1)
    return Response(script, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


def backend(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """The shop's backend, by CHATBOT_BACKEND_API_KEY as a bearer token; the routes are off without one."""
    key = request.app.state.desk.settings.backend_api_key.get_secret_value()
    if not key:
        raise HTTPException(404, "customer data endpoints are off: set CHATBOT_BACKEND_API_KEY")
    scheme, _, sent = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent.encode(), key.encode()):
        raise HTTPException(401, "a valid backend key is required", headers={"WWW-Authenticate": "Bearer"})


@router.get("/v1/customers/{customer_id}/data", dependencies=[Depends(backend)],
            responses={401: {"description": "no or wrong backend key"}, 404: {"description": "no such customer"}})
async def customer_export(request: Request, customer_id: Annotated[int, PathParam(ge=1, le=2**63 - 1)]) -> dict:
    """Everything the desk holds about one customer (for a data-access request)."""
    try:
        return await run_in_threadpool(export_customer, request.app.state.desk.sessions, customer_id, "backend")
    except DeskError as exc:
        raise http_error(exc) from None


@router.delete("/v1/customers/{customer_id}/data", dependencies=[Depends(backend)],
               responses={401: {"description": "no or wrong backend key"}, 404: {"description": "no such customer"}})
async def customer_delete(request: Request, customer_id: Annotated[int, PathParam(ge=1, le=2**63 - 1)]) -> dict:
    """Delete one customer's conversations, offers, orders and profile (for an erasure request)."""
    try:
        deleted = await run_in_threadpool(delete_customer, request.app.state.desk.sessions, customer_id, "backend")
    except DeskError as exc:
        raise http_error(exc) from None
    return {"deleted": deleted}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when the database answers and the model can take a turn, else 503
    (with Retry-After) naming what is not ready. A load balancer sends shoppers elsewhere."""
    desk = request.app.state.desk
    checks = {"database": await run_in_threadpool(_database_answers, desk.sessions),
              "model": "ok" if getattr(desk.generator, "ready", True) else "not running"}
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", **checks}, status_code=200 if ready else 503,
                        headers=None if ready else {"Retry-After": str(DATABASE_RETRY_AFTER_S)})


def _database_answers(sessions) -> str:
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as exc:
        return f"unreachable ({type(exc).__name__})"


async def store_unreachable(request: Request, exc: SQLAlchemyError) -> JSONResponse:
    """The store failed (unreachable, timed out): 503 with Retry-After, without details."""
    log.error("database error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse({"detail": "the desk cannot reach its database; please retry shortly"}, status_code=503,
                        headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)})


@router.get("/healthz")
async def healthz(request: Request) -> dict:
    """Liveness (the process answers) and what is loaded; /readyz says whether it can serve."""
    desk = request.app.state.desk
    return {"status": "ok", "model": desk.generator.model_id,
            "adapter": desk.generator.adapter_version, "chunks": len(desk.retriever.index.chunks)}


@router.get("/metrics", include_in_schema=False)
async def metrics():
    """Prometheus text: requests, latency, turns, time to first token, tokens, offers, queue."""
    return metrics_response()


@router.get("/widget/demo", include_in_schema=False)
async def widget_demo(request: Request) -> HTMLResponse:
    """A bare page with the widget on it, to try the widget without a shop page."""
    settings = request.app.state.desk.settings
    key = next(iter(settings.widget_keys), "")
    return HTMLResponse(WIDGET_DEMO.format(shop=html.escape(settings.shop_name), key=html.escape(key)))


WIDGET_DEMO = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{shop}: widget demo</title></head>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto">
<h1>{shop}</h1><p>This page only carries the chat widget: open it with the button at the bottom right.</p>
<script src="/widget.js" data-key="{key}" defer></script>
</body></html>"""


def create_app(settings: Settings | None = None, desk: Desk | None = None) -> FastAPI:
    """The ASGI app; the desk (model, index, store) is built at startup unless given."""
    settings = settings or (desk.settings if desk is not None else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        built_here = app.state.desk is None
        if built_here:
            from chatbot.desk import build_desk

            app.state.desk = await run_in_threadpool(build_desk, settings)
            closed = await run_in_threadpool(close_interrupted_turns, app.state.desk.sessions,
                                             settings.interrupted_turn_s)
            if closed:
                log.warning("closed %d shopper turn(s) interrupted by the last stop", closed)
        retention = None
        if built_here and settings.retention_days:
            retention = asyncio.create_task(_retention(app.state.desk.sessions, settings.retention_days))
        # Notices of new hand-offs (chatbot/notify.py): only when a webhook or an e-mail is set.
        notices = start_notices(app.state.desk.sessions, settings)
        watch_queue(app.state.desk.generator)
        adapters = index_watch = None
        generator = app.state.desk.generator
        if built_here and (hasattr(generator, "swap_model") or hasattr(generator, "use_adapter")):
            from chatbot.llm.adapters import AdapterWatch  # follows `python -m finetune use NAME`

            adapters = AdapterWatch(generator, settings).start()
        if built_here:  # an index another process rebuilt is served here too (chatbot/index_watch.py)
            from chatbot.index_watch import IndexWatch

            index_watch = IndexWatch(app.state.desk).start()
        shop_sync = None
        if settings.profile.sync is not None:  # the shop's own database, every few minutes
            from knowledge.shop_sync import ShopSync

            shop_sync = ShopSync(app.state.desk.sessions, settings.profile.sync,
                                 on_catalog_change=app.state.desk.refresh_index).start()
        yield
        if shop_sync is not None:  # a sync under way finishes (or rolls back) first
            await run_in_threadpool(shop_sync.close)
        if notices is not None:
            notices.cancel()
        if retention is not None:
            retention.cancel()
        if adapters is not None:
            adapters.close()
        if index_watch is not None:
            await run_in_threadpool(index_watch.close)
        if built_here:  # a desk we were given is its owner's to close
            await run_in_threadpool(app.state.desk.close)

    app = FastAPI(title=f"{settings.shop_name} customer-service desk", lifespan=lifespan,
                  description="Chat with the shop's assistant; see /widget.js to embed it.")
    app.state.desk = desk
    app.state.rate_limits = RateLimits.from_settings(settings)
    app.state.login_limits = LoginLimits.from_settings(settings)
    app.state.turn_slots = TurnSlots.from_settings(settings)
    app.state.chat_limiter = anyio.CapacityLimiter(settings.max_concurrent_chats)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(OperationalError, store_unreachable)
    app.add_exception_handler(InterfaceError, store_unreachable)
    app.include_router(router)
    app.include_router(console_router)
    mount_ui(app, settings)
    # Outermost last: metrics see every request, sizes are checked before anything reads a body.
    app.add_middleware(SessionMiddleware, secret_key=session_secret(settings),
                       session_cookie="shopdesk_agent", max_age=settings.agent_session_minutes * 60,
                       same_site="lax", https_only=settings.env == "production")
    app.add_middleware(CORSMiddleware, allow_origins=allowed_origins(settings),
                       allow_methods=["GET", "POST"], allow_credentials=False, max_age=600,
                       allow_headers=["Content-Type", "Accept", "X-Widget-Key", "X-Customer-Token"],
                       expose_headers=["Retry-After"])
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes, prefixes=("/",))  # Gradio's too
    app.add_middleware(RequestMetrics)
    if settings.trusted_proxies:  # the shopper's address from X-Forwarded-For, only via these proxies
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with what is wrong and where, never the rejected input.

    FastAPI's default echoes the input: a shopper's words (and whatever they typed into
    them) in the response, and a lone surrogate that cannot be encoded turned it into a 500.
    """
    detail = [{"type": e["type"], "loc": [_encodable(part) for part in e["loc"]], "msg": _encodable(e["msg"])}
              for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


def _encodable(part: object) -> object:
    return part.encode("utf-8", "backslashreplace").decode() if isinstance(part, str) else part


async def _retention(sessions, days: int) -> None:
    """Delete conversations past CHATBOT_RETENTION_DAYS now and every hour while serving."""
    while True:
        try:
            deleted = await run_in_threadpool(delete_old_conversations, sessions, days)
            if deleted:
                log.info("retention: deleted %d conversation(s) older than %d days", deleted, days)
        except SQLAlchemyError as exc:
            log.error("retention sweep failed: %s; trying again in an hour", type(exc).__name__)
        await asyncio.sleep(3600)


def session_secret(settings: Settings) -> str:
    """A key for console session cookies, derived so it never equals the shopper-token key."""
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, b"agent console sessions", hashlib.sha256).hexdigest()
