"""The OpenAI-compatible backend against a small real HTTP server speaking vLLM's streaming
/v1/chat/completions, which itself generates with the tiny Llama; the desk's side is
unchanged code, the boundary is real HTTP on 127.0.0.1."""

import json
import socket
import threading
import time

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from chatbot.errors import Busy
from chatbot.llm.generation import GenerationStats, HFGenerator
from chatbot.llm.server import OpenAIGenerator, ServerError

MESSAGES = [{"role": "system", "content": "You are a shop assistant."},
            {"role": "user", "content": "Hello there!"}]


def chat_server(local: HFGenerator, state: dict) -> FastAPI:
    """vLLM's streaming chat-completions wire format over a local generator."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request):
        body = await request.json()
        state["body"] = body
        if body["model"] == "overloaded":
            return JSONResponse({"error": "too many requests"}, status_code=503)
        if body["model"] == "broken":
            return JSONResponse({"error": "no such model"}, status_code=404)
        stats = GenerationStats()

        def events():
            stream = local.stream(body["messages"], max_new_tokens=body["max_tokens"], stats=stats)
            try:
                for piece in stream:
                    yield f"data: {json.dumps({'choices': [{'delta': {'content': piece}}]})}\n\n"
                    time.sleep(state.get("delay", 0))
                usage = {"prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.tokens_generated}
                yield f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n"
                yield "data: [DONE]\n\n"
            finally:
                stream.close()
                state["generated"] = stats.tokens_generated

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@pytest.fixture(scope="module")
def server(tiny_model):
    local = HFGenerator(tiny_model)
    state: dict = {}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(chat_server(local, state), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}/v1", local, state
    running.should_exit = True
    thread.join(timeout=10)
    local.close()


def remote(url, tokenizer, model="smol"):
    return OpenAIGenerator(url, model, "smollm2-135m", tokenizer)


def test_server_answer_streams_in_pieces_equal_to_local(server, tiny_model):
    url, local, state = server
    stats = GenerationStats()
    pieces = list(remote(url, tiny_model.tokenizer).stream(MESSAGES, max_new_tokens=12, stats=stats))
    assert len(pieces) > 1
    assert "".join(pieces) == "".join(local.stream(MESSAGES, max_new_tokens=12))
    assert state["body"]["temperature"] == 0 and state["body"]["stream"] is True
    assert stats.tokens_generated == 12 and stats.prompt_tokens > 10


def test_server_busy_becomes_busy_and_errors_say_what_happened(server, tiny_model):
    url, _, _ = server
    with pytest.raises(Busy):
        list(remote(url, tiny_model.tokenizer, "overloaded").stream(MESSAGES, max_new_tokens=4))
    with pytest.raises(ServerError, match="HTTP 404"):
        list(remote(url, tiny_model.tokenizer, "broken").stream(MESSAGES, max_new_tokens=4))
    with pytest.raises(Exception, match="[Cc]onnect"):
        list(remote("http://127.0.0.1:9/v1", tiny_model.tokenizer).stream(MESSAGES, max_new_tokens=4))


def test_leaving_early_stops_the_server_generating(server, tiny_model):
    url, _, state = server
    state["delay"] = 0.05
    state.pop("generated", None)
    stream = remote(url, tiny_model.tokenizer).stream(MESSAGES, max_new_tokens=400)
    next(stream)
    stream.close()
    deadline = time.monotonic() + 30
    while "generated" not in state:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    state.pop("delay")
    assert state["generated"] < 400


def test_settings_pick_the_server_backend_and_its_adapter_name(tmp_path, smollm2_dir):
    from chatbot.llm.generation import build_generator
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, generator="openai", openai_base_url="http://gpu-box:8000/v1/",
                             openai_model="ridgeline-lora")
    generator = build_generator(settings)
    assert isinstance(generator, OpenAIGenerator)
    assert generator.base_url == "http://gpu-box:8000/v1" and generator.served_model == "ridgeline-lora"
    assert generator.adapter_version == "ridgeline-lora" and generator.model_id == settings.model
    assert generator.tokenizer.apply_chat_template(MESSAGES, tokenize=False)
