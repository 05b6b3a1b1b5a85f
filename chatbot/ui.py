"""The shopper chat page (Gradio) at `/`: a thin adapter over the streaming pipeline."""

from __future__ import annotations

import gradio as gr
from fastapi import FastAPI

from chatbot.pipeline import turn
from chatbot.schemas import ChatRequest, DoneEvent, TokenEvent


def build_ui(app: FastAPI) -> gr.Blocks:
    def respond(message: str, history: list, conversation_id: str | None):
        answer = ""
        request = ChatRequest(message, conversation_id, None, channel="ui")
        for event in turn(request, app.state.desk):
            if isinstance(event, TokenEvent):
                answer += event.text
                yield answer, conversation_id
            elif isinstance(event, DoneEvent):
                sources = "\n".join(f"[{n}] {s.title}" for n, s in enumerate(event.reply.sources, 1))
                yield f"{event.reply.answer}\n\n{sources}".strip(), event.reply.conversation_id

    with gr.Blocks(title="Shop assistant") as demo:
        conversation_id = gr.State(None)
        gr.ChatInterface(respond, additional_inputs=[conversation_id],
                         additional_outputs=[conversation_id])
    return demo


def mount_ui(app: FastAPI) -> FastAPI:
    return gr.mount_gradio_app(app, build_ui(app), path="/")
