"""The shopper chat page (Gradio) at `/`: a thin adapter over the streaming pipeline.

Answers stream in, with their sources underneath and any retention offer as a card. When
CHATBOT_DEMO_SIGN_IN is on (the default in dev), a selector signs the page in as one of the
demo shop's customers, to try order questions; otherwise every chat here is anonymous.
"""

from __future__ import annotations

from functools import partial

import gradio as gr
from fastapi import FastAPI, HTTPException
from sqlalchemy import func, select

from chatbot import inbox
from chatbot.errors import DeskError
from chatbot.language import reply_language
from chatbot.messages import say
from chatbot.pipeline import turn
from shopcore.schemas import ChatRequest, DoneEvent, Offer, Reply, TokenEvent
from shopcore.settings import Settings
from shopcore.store.models import Customer, Order

ANONYMOUS = 0  # the selector's value for "not signed in"
DEMO_CUSTOMERS = 12
AGENT_NOTE = say("agent_note", "en")
AGENT_POLL_S = 3  # how often the page looks for a person's replies


def offer_card(offer: Offer) -> str:
    """An offer as a Markdown card: what it is, the code to use, and the terms."""
    lines = [f"**A thank-you from us: {offer.kind.replace('_', ' ')}"
             + (f" ({offer.value:g} {offer.unit})" if offer.value else "") + "**"]
    if offer.code:
        lines.append(f"Code: `{offer.code}`")
    if offer.expires_at:
        lines.append(f"Valid until {offer.expires_at[:10]}")
    if offer.terms:
        lines.append(offer.terms)
    return "\n".join(f"> {line}  " for line in lines)


def render_reply(reply: Reply) -> str:
    """The finished answer, its sources, and the offer card, as one chat message."""
    parts = [reply.answer or (AGENT_NOTE if reply.state == "agent" else "")]
    if reply.sources:
        cited = " · ".join(f"[{n}] {s.title}" for n, s in enumerate(reply.sources, 1))
        parts.append(f"<small>Sources: {cited}</small>")
    if reply.offer is not None:
        parts.append(offer_card(reply.offer))
    return "\n\n".join(p for p in parts if p)


def demo_customers(app: FastAPI) -> list[tuple[str, int]]:
    """Selector choices: anonymous, then demo customers who have orders to ask about."""
    with app.state.desk.sessions() as session:
        rows = session.execute(
            select(Customer.id, Customer.name, func.count(Order.id))
            .join(Order, Order.customer_id == Customer.id)
            .group_by(Customer.id, Customer.name).order_by(Customer.id).limit(DEMO_CUSTOMERS)
        ).all()
    return [("Not signed in", ANONYMOUS)] + [
        (f"{name} (customer {cid}, {orders} order{'s' * (orders != 1)})", cid) for cid, name, orders in rows
    ]


def build_ui(app: FastAPI, settings: Settings) -> gr.Blocks:
    """The chat page; the desk is looked up per message, so it may be built after the page."""

    def sign_in_choices() -> gr.Dropdown:
        choices = demo_customers(app)  # a shop without customers (or orders) has nobody to sign in as
        return gr.Dropdown(choices=choices, visible=len(choices) > 1)

    def respond(message: str, history: list, customer_id: int | None, state: dict, request: gr.Request):
        language = reply_language(message, None, settings.shop_languages).code  # for the page's own words
        try:  # the same limits as the API's chat route, per client address
            app.state.rate_limits.hit(request.client.host if request.client else "unknown", None)
        except HTTPException as exc:
            raise gr.Error(say("rate_limited", language, seconds=exc.headers["Retry-After"])) from None
        customer_id = (customer_id or None) if settings.demo_sign_in else None
        # A conversation belongs to one shopper: switching who is signed in starts a new one.
        conversation_id = state.get("conversation_id") if state.get("customer_id") == customer_id else None
        # An e-mail address left for the person asked for (chatbot/inbox.py) is not a question.
        contact = inbox.chat_page_contact(app.state.desk.sessions, conversation_id, customer_id, message, language)
        if contact is not None:
            yield contact, state
            return
        slot = app.state.turn_slots.take()  # the API's answer slots, shared with the page
        if slot is None:
            raise gr.Error(say("busy", language))
        answer = ""
        try:
            for event in turn(ChatRequest(message, conversation_id, customer_id, channel="ui"),
                              app.state.desk):
                if isinstance(event, TokenEvent):
                    answer += event.text
                    yield answer, state
                elif isinstance(event, DoneEvent):
                    # A person asked for: the wait, or when someone will answer after hours.
                    note = inbox.chat_page_note(app.state.desk.sessions, event.reply.conversation_id, customer_id,
                                                hours=settings.profile.hours, language=language)
                    same = event.reply.conversation_id == state.get("conversation_id")
                    # Said once, and again only when it changes: not under every reply while a person is awaited.
                    shown = "" if same and note == state.get("note") else note
                    yield "\n\n".join(filter(None, [render_reply(event.reply), shown])), {
                        "conversation_id": event.reply.conversation_id, "customer_id": customer_id,
                        "agent_seen": state.get("agent_seen", 0) if same else 0, "note": note}
        except DeskError as exc:
            raise gr.Error(str(exc)) from None
        finally:
            slot.release()

    with gr.Blocks(title=f"{settings.shop_name} assistant") as demo:
        gr.Markdown(f"## {settings.shop_name} · ask us anything")
        state = gr.State({"conversation_id": None, "customer_id": None})
        customer = gr.Dropdown([("Not signed in", ANONYMOUS)], value=ANONYMOUS,
                               label="Sign in as a demo customer (try order questions)",
                               visible=bool(settings.demo_sign_in), interactive=True)
        chat = gr.ChatInterface(respond, additional_inputs=[customer, state], additional_outputs=[state],
                                examples=[[q, None, None] for q in settings.example_questions],
                                run_examples_on_click=True, fill_height=False,
                                concurrency_limit=settings.max_concurrent_chats)
        # A person's replies (chatbot/inbox.py) appear without the shopper sending anything.
        gr.Timer(AGENT_POLL_S).tick(partial(agent_replies, app), inputs=[chat.chatbot_state, state],
                                    outputs=[chat.chatbot_value, state], show_progress="hidden")
        if settings.demo_sign_in:
            demo.load(sign_in_choices, outputs=customer)
    return demo


def agent_replies(app: FastAPI, history: list, state: dict):
    """The chat with a person's new replies added, for the page's timer; unchanged if none."""
    seen = state.get("agent_seen", 0)
    replies = inbox.agent_replies_after(app.state.desk.sessions, state.get("conversation_id"),
                                        state.get("customer_id"), seen) if state.get("conversation_id") else []
    if not replies:
        return gr.skip(), gr.skip()
    added = [{"role": "assistant", "content": f"**Shop staff:** {text}"} for _, text in replies]
    return list(history or []) + added, {**state, "agent_seen": replies[-1][0]}


def mount_ui(app: FastAPI, settings: Settings) -> FastAPI:
    """Mount the chat page at `/` (after every other route, which therefore wins).

    The page takes no files: uploads are capped at the API's body limit, which the app's
    BodySizeLimit also applies to every Gradio route; messages count against the API's
    per-address rate limit.
    """
    return gr.mount_gradio_app(app, build_ui(app, settings), path="/", max_file_size=settings.max_request_bytes)
