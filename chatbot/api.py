"""HTTP API: chat, conversations and health, with the shopper UI mounted at `/`.

Routes call the pipeline directly; domain errors become HTTP errors here and nowhere else.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from chatbot.errors import DeskError
from chatbot.pipeline import reply
from chatbot.schemas import ChatRequest
from chatbot.settings import Settings, get_settings
from chatbot.store.conversations import conversation_transcript

router = APIRouter()


class ChatBody(BaseModel):
    message: str = Field(description="what the shopper wrote")
    conversation_id: str | None = Field(None, description="continue this conversation")
    customer_token: str | None = Field(None, description="signed shopper identity from the shop's backend")


@router.post("/v1/chat")
async def chat(body: ChatBody, request: Request) -> dict:
    """Answer one shopper message."""
    desk = request.app.state.desk
    try:
        result = await run_in_threadpool(
            reply, ChatRequest(body.message, body.conversation_id, None, channel="api"), desk
        )
    except DeskError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    return result.to_json()


@router.get("/v1/conversations/{conversation_id}")
async def conversation(conversation_id: str, request: Request) -> dict:
    """A shopper's own conversation."""
    try:
        return conversation_transcript(request.app.state.desk.sessions, conversation_id, None)
    except DeskError as exc:
        raise HTTPException(exc.status, str(exc)) from None


@router.get("/healthz")
async def healthz(request: Request) -> dict:
    """Liveness and what is loaded."""
    desk = request.app.state.desk
    return {"status": "ok", "model": desk.generator.model_id,
            "chunks": len(desk.retriever.index.chunks)}


def create_app(settings: Settings | None = None, desk=None) -> FastAPI:
    """The ASGI app; the desk (model, index, store) is built at startup unless given."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if desk is None:
            from chatbot.desk import build_desk

            app.state.desk = await run_in_threadpool(build_desk, settings)
        yield

    app = FastAPI(title=f"{settings.shop_name} customer-service desk", lifespan=lifespan)
    app.state.desk = desk
    app.include_router(router)
    from chatbot.ui import mount_ui

    return mount_ui(app)
