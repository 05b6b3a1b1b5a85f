"""The agent console's pages at /agent: login, the waiting queue and the filtered
conversation list, a transcript with its timeline and risk chart, and the forms to claim,
take over, reply (saved replies), note, resolve, hand back, correct and export. The queue
and an open conversation update themselves from /agent/live (server-sent events fed from
the database, chatbot/live.py).

Server-rendered with Jinja2 (autoescaped). A login is a row on the server (ended by logout
or by deleting the agent, console/accounts.py) whose secret rides in a signed session cookie;
it expires CHATBOT_AGENT_SESSION_MINUTES after login. Logins are rate-limited per address and
per name (CHATBOT_LOGIN_RATE_LIMIT). SameSite=Lax keeps other sites' forms from posting with
the cookie, and every form carries the session's CSRF token (console/csrf.py) against pages
of the same site. Agents' actions go into the audit log (chatbot/audit.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sse_starlette import EventSourceResponse

from chatbot import inbox, live

from chatbot.audit import agent as agent_actor
from chatbot.audit import record
from chatbot.console.accounts import authenticate, end_session, open_session, session_agent
from chatbot.console.csrf import csrf_token, require_csrf_token
from chatbot.console.actions import agent_reply, claim, correct_answer, hand_back, resolve, take_over
from chatbot.console.review import (
    NO_OFFER,
    ReviewFilter,
    conversation_review,
    export_conversations,
    list_conversations,
    risk_series,
)
from chatbot.console import analytics, analytics_plot
from chatbot.console.risk_plot import risk_svg
from chatbot.errors import DeskError
from chatbot.offers.console import budget_spend
from shopcore.store.models import OFFER_STATES, RISK_LEVELS

SESSION_KEY = "agent"
router = APIRouter(prefix="/agent", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
templates.env.globals["csrf_token"] = csrf_token  # {{ csrf_token(request) }} in every form
FormChecked = Depends(require_csrf_token)


def _login_secret(request: Request) -> str | None:
    login = request.session.get(SESSION_KEY) if "session" in request.scope else None
    return login.get("secret") if isinstance(login, dict) and isinstance(login.get("secret"), str) else None


async def current_agent(request: Request) -> str | None:
    """The logged-in agent's name, or None: no login, or one that ended, expired or whose
    account is gone (checked on the server, whatever the cookie says)."""
    secret = _login_secret(request)
    if secret is None:
        return None
    name = await run_in_threadpool(session_agent, request.app.state.desk.sessions, secret)
    if name is None:
        request.session.pop(SESSION_KEY, None)
    return name


async def require_agent(request: Request) -> str:
    """The logged-in agent; anyone else is sent to the login page."""
    name = await current_agent(request)
    if name is None:
        raise HTTPException(303, "login required", headers={"Location": "/agent/login"})
    return name


Agent = Annotated[str, Depends(require_agent)]


@router.get("/login")
async def login_page(request: Request):
    return templates.TemplateResponse(request, "login.html", {"error": None})


@router.post("/login", dependencies=[FormChecked])
async def login(request: Request, username: Annotated[str, Form(max_length=100)],
                password: Annotated[str, Form(max_length=1000)]):
    address = request.client.host if request.client else "unknown"
    try:
        request.app.state.login_limits.hit(address, username)
    except HTTPException as exc:
        wait = exc.headers["Retry-After"]
        return templates.TemplateResponse(request, "login.html",
                                          {"error": f"Too many login attempts: try again in {wait} s."},
                                          status_code=429, headers={"Retry-After": wait})
    desk = request.app.state.desk
    name = await run_in_threadpool(authenticate, desk.sessions, username, password)
    if name is None:
        return templates.TemplateResponse(request, "login.html", {"error": "Wrong name or password."},
                                          status_code=401)
    secret = await run_in_threadpool(open_session, desk.sessions, name, desk.settings.agent_session_minutes)
    await run_in_threadpool(record, desk.sessions, agent_actor(name), "login")
    request.session.clear()  # a fresh session, and so a fresh CSRF token, for each login
    request.session[SESSION_KEY] = {"secret": secret}
    return RedirectResponse("/agent", status_code=303)


@router.post("/logout", dependencies=[FormChecked])
async def logout(request: Request):
    secret = _login_secret(request)
    if secret is not None:
        name = await current_agent(request)
        await run_in_threadpool(end_session, request.app.state.desk.sessions, secret)
        if name is not None:
            await run_in_threadpool(record, request.app.state.desk.sessions, agent_actor(name), "logout")
    request.session.clear()
    return RedirectResponse("/agent/login", status_code=303)


def _filters(request: Request) -> tuple[ReviewFilter, list[str]]:
    """The list filters from the query string; unusable values are reported, not fatal."""
    query, problems = request.query_params, []
    risk = query.get("risk") or None
    offer = query.get("offer") or None
    if risk not in (None, *RISK_LEVELS):
        problems.append(f"unknown risk level {risk!r}")
        risk = None
    if offer not in (None, NO_OFFER, *OFFER_STATES):
        problems.append(f"unknown offer state {offer!r}")
        offer = None
    days = {}
    for name in ("since", "until"):
        try:
            days[name] = date.fromisoformat(query[name]) if query.get(name) else None
        except ValueError:
            problems.append(f"{name} must be a date like 2025-03-31")
            days[name] = None
    text = (query.get("q") or "").strip()[:200] or None
    return ReviewFilter(risk, offer, days["since"], days["until"], text), problems


@router.get("")
async def conversation_list(request: Request, agent: Agent):
    filters, problems = _filters(request)
    desk = request.app.state.desk
    cursor = await run_in_threadpool(live.now_cursor, desk.sessions)  # the page is live from here on
    rows = await run_in_threadpool(list_conversations, desk.sessions, filters)
    budget = await run_in_threadpool(budget_spend, desk.sessions, desk.policy)
    queue = await run_in_threadpool(inbox.waiting_queue, desk.sessions)
    return templates.TemplateResponse(request, "list.html", {
        "agent": agent, "rows": rows, "filters": filters, "problems": problems, "budget": budget,
        "risk_levels": RISK_LEVELS, "offer_states": (NO_OFFER, *OFFER_STATES),
        "query": request.url.query, "queue": queue, "cursor": cursor,
    })


@router.get("/queue")
async def queue_fragment(request: Request, agent: Agent):
    """The waiting queue alone, which the list page fetches when the live feed says it changed."""
    queue = await run_in_threadpool(inbox.waiting_queue, request.app.state.desk.sessions)
    return templates.TemplateResponse(request, "queue.html", {"agent": agent, "queue": queue})


@router.get("/live")
async def live_feed(request: Request, agent: Agent, after: str | None = None, conversation: str | None = None):
    """Server-sent events: hand-offs, claims, replies, notes and new messages as they are
    stored (by any server process), from the cursor the page was rendered at."""
    if conversation is not None and not CONVERSATION.fullmatch(conversation):
        raise HTTPException(422, "conversation must be a conversation id")
    sessions = request.app.state.desk.sessions
    cursor = live.Cursor.parse(request.headers.get("last-event-id") or after)
    if cursor is None:
        cursor = await run_in_threadpool(live.now_cursor, sessions)
    return EventSourceResponse(live.stream(sessions, cursor, conversation_id=conversation), ping=15)


@router.get("/export.{fmt}")
async def export(request: Request, agent: Agent, fmt: str):
    if fmt not in ("jsonl", "csv"):
        raise HTTPException(404, "export as .jsonl or .csv")
    filters, _ = _filters(request)
    conversations = await run_in_threadpool(export_conversations, request.app.state.desk.sessions,
                                            filters)
    await run_in_threadpool(record, request.app.state.desk.sessions, agent_actor(agent), "export",
                            format=fmt, conversations=len(conversations), filters=request.url.query[:500])
    body = _jsonl(conversations) if fmt == "jsonl" else _csv(conversations)
    media = "application/x-ndjson" if fmt == "jsonl" else "text/csv; charset=utf-8"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="transcripts.{fmt}"'})


def _jsonl(conversations: list[dict]) -> str:
    return "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in conversations)


CSV_COLUMNS = ("conversation_id", "customer_id", "channel", "conversation_state", "risk_level",
               "message_id", "role", "state", "created_at", "text", "message_risk", "sources",
               "corrected_text")


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A text cell as a spreadsheet shows it, never as a formula: prefixed with a quote."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _csv(conversations: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for c in conversations:
        for m in c["messages"]:
            corrections = [x["corrected_text"] for x in m["corrections"] if x["corrected_text"]]
            writer.writerow(_cell(value) for value in [
                c["id"], (c["customer"] or {}).get("id", ""), c["channel"], c["state"], c["risk_level"],
                m["id"], m["role"], m["state"], m["created_at"], m["text"],
                "" if m["risk"] is None else m["risk"]["score"],
                " ".join(s.get("doc_id", "") for s in m["sources"]),
                corrections[-1] if corrections else "",
            ])
    return out.getvalue()


@router.get("/conversations/{conversation_id}")
async def conversation_page(request: Request, agent: Agent, conversation_id: str):
    sessions = request.app.state.desk.sessions
    cursor = await run_in_threadpool(live.now_cursor, sessions)
    review = await _review(request, conversation_id)
    return templates.TemplateResponse(request, "conversation.html", {
        "agent": agent, "c": review, "risk_chart": risk_svg(risk_series(review)), "cursor": cursor,
        "handoff": await run_in_threadpool(inbox.open_request, sessions, conversation_id),
        "events": await run_in_threadpool(inbox.timeline, sessions, conversation_id),
        "saved_replies": await run_in_threadpool(inbox.saved_replies, sessions),
        "notice": NOTICES.get(request.query_params.get("notice", "")),
    })


NOTICES = {"taken": "Another agent claimed this conversation first.",
           "nobody": "Nobody is waiting in this conversation any more."}
CONVERSATION = re.compile(r"[0-9a-f]{32}")


async def _review(request: Request, conversation_id: str) -> dict:
    try:
        return await run_in_threadpool(conversation_review, request.app.state.desk.sessions,
                                       conversation_id)
    except DeskError as exc:
        raise HTTPException(exc.status, str(exc)) from None


async def _act(request: Request, conversation_id: str, action, *args) -> RedirectResponse:
    try:
        await run_in_threadpool(action, request.app.state.desk.sessions, *args)
    except DeskError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    return RedirectResponse(f"/agent/conversations/{conversation_id}", status_code=303)


@router.post("/conversations/{conversation_id}/take-over", dependencies=[FormChecked])
async def take_over_page(request: Request, agent: Agent, conversation_id: str):
    return await _act(request, conversation_id, take_over, conversation_id, agent)


@router.post("/conversations/{conversation_id}/claim", dependencies=[FormChecked])
async def claim_page(request: Request, agent: Agent, conversation_id: str):
    """Claim a waiting conversation: of two agents claiming at once, exactly one gets it."""
    try:
        return await _act(request, conversation_id, claim, conversation_id, agent)
    except HTTPException as exc:
        if exc.status_code != 409:
            raise
        taken = "claimed" in str(exc.detail)
        return RedirectResponse(f"/agent/conversations/{conversation_id}?notice={'taken' if taken else 'nobody'}",
                                status_code=303)


@router.post("/conversations/{conversation_id}/resolve", dependencies=[FormChecked])
async def resolve_page(request: Request, agent: Agent, conversation_id: str):
    return await _act(request, conversation_id, resolve, conversation_id, agent)


@router.post("/conversations/{conversation_id}/notes", dependencies=[FormChecked])
async def note_page(request: Request, agent: Agent, conversation_id: str,
                    text: Annotated[str, Form(max_length=inbox.MAX_NOTE)]):
    """An internal note: on the timeline for agents, never shown to the shopper."""
    return await _act(request, conversation_id, inbox.add_note, conversation_id, agent, text)


@router.post("/saved-replies", dependencies=[FormChecked])
async def saved_reply_page(request: Request, agent: Agent, title: Annotated[str, Form(max_length=200)],
                           body: Annotated[str, Form(max_length=inbox.MAX_NOTE)],
                           back: Annotated[str, Form(max_length=100)] = ""):
    try:
        await run_in_threadpool(inbox.save_reply, request.app.state.desk.sessions, title, body, agent)
    except DeskError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    # Back to the conversation it was saved from; never to another site.
    target = f"/agent/conversations/{back}" if CONVERSATION.fullmatch(back) else "/agent"
    return RedirectResponse(target, status_code=303)


@router.post("/conversations/{conversation_id}/hand-back", dependencies=[FormChecked])
async def hand_back_page(request: Request, agent: Agent, conversation_id: str):
    return await _act(request, conversation_id, hand_back, conversation_id, agent)


@router.post("/conversations/{conversation_id}/reply", dependencies=[FormChecked])
async def reply_page(request: Request, agent: Agent, conversation_id: str,
                     text: Annotated[str, Form(max_length=10_000)]):
    return await _act(request, conversation_id, agent_reply, conversation_id, agent, text)


@router.post("/conversations/{conversation_id}/messages/{message_id}/correct", dependencies=[FormChecked])
async def correct_page(request: Request, agent: Agent, conversation_id: str, message_id: int,
                       corrected_text: Annotated[str, Form(max_length=10_000)],
                       note: Annotated[str, Form(max_length=2000)] = ""):
    return await _act(request, conversation_id, correct_answer, conversation_id, message_id, agent,
                      corrected_text, note)


# --- Analytics (console/analytics.py): the page, and a CSV of each of its tables ---

ANALYTICS_DAYS = 30


def _analytics_window(request: Request) -> tuple[analytics.Window, int, list[str]]:
    """The window from ?days= (the last N UTC days, today included); a bad value is reported."""
    raw = request.query_params.get("days") or str(ANALYTICS_DAYS)
    days = int(raw) if raw.isdigit() and 1 <= int(raw) <= analytics.MAX_DAYS else None
    problems = [] if days else [f"days must be a whole number from 1 to {analytics.MAX_DAYS}"]
    days = days or ANALYTICS_DAYS
    return analytics.Window.last(days), days, problems


@router.get("/analytics")
async def analytics_page(request: Request, agent: Agent):
    window, days, problems = _analytics_window(request)
    desk = request.app.state.desk
    tables = await run_in_threadpool(analytics.report, desk.sessions, window, desk.retriever.embedder.embed)
    charts = await run_in_threadpool(analytics_plot.charts, tables)
    return templates.TemplateResponse(request, "analytics.html", {
        "agent": agent, "tables": tables, "charts": charts, "window": window, "days": days,
        "problems": problems, "max_days": analytics.MAX_DAYS,
    })


@router.get("/analytics/{name}.csv")
async def analytics_csv(request: Request, agent: Agent, name: str):
    if name not in analytics.TABLES:
        raise HTTPException(404, f"no such table; one of {', '.join(analytics.TABLES)}")
    window, days, problems = _analytics_window(request)
    if problems:
        raise HTTPException(422, problems[0])
    desk = request.app.state.desk
    extra = (desk.retriever.embedder.embed,) if name == "gaps" else ()
    table = await run_in_threadpool(analytics.TABLES[name], desk.sessions, window, *extra)
    # The gaps table quotes shoppers' messages: exports are audited like transcripts.
    await run_in_threadpool(record, desk.sessions, agent_actor(agent), "export", format="csv",
                            table=name, days=days)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows([_cell(value) for value in row] for row in table.rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}-{window.since.date()}-{window.last_day}.csv"'})
