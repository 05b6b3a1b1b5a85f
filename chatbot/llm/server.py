"""The generator for large deployments: an OpenAI-compatible chat server (vLLM's
`vllm serve MODEL --enable-lora --lora-modules NAME=DIR`), streamed over HTTP.

    CHATBOT_GENERATOR=openai CHATBOT_OPENAI_BASE_URL=http://gpu-box:8000/v1 \\
    CHATBOT_OPENAI_MODEL=ridgeline-lora CHATBOT_MODEL=qwen2.5-0.5b

CHATBOT_MODEL still names the model so the prompt's token budget is measured with its own
tokenizer (only the tokenizer is loaded here); CHATBOT_OPENAI_MODEL is what the server calls
it, e.g. a LoRA adapter's name, which is then the answer's adapter version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from chatbot.errors import Busy
from chatbot.llm.generation import GenerationStats

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 120.0  # between two streamed chunks, not for the whole answer


class ServerError(Exception):
    """The model server answered with an error or something that is not a chat stream."""


@dataclass
class OpenAIGenerator:
    base_url: str
    served_model: str
    model_id: str
    tokenizer: object
    api_key: str = ""
    adapter_version: str | None = None

    @classmethod
    def from_settings(cls, settings) -> OpenAIGenerator:
        """A generator for CHATBOT_OPENAI_*, with CHATBOT_MODEL's tokenizer for budgets."""
        from transformers import AutoTokenizer

        from chatbot.llm.loading import resolve_model_path

        tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(settings.model, settings.model_cache_dir))
        served = settings.openai_model or settings.model
        return cls(settings.openai_base_url.rstrip("/"), served, settings.model, tokenizer,
                   settings.openai_api_key.get_secret_value(),
                   served if served != settings.model else None)

    def stream(self, messages, *, max_new_tokens, cancel=None, stats=None):
        """Yield the server's streamed answer; greedy (temperature 0) like the local model."""
        stats = stats if stats is not None else GenerationStats()
        body = {"model": self.served_model, "messages": messages, "max_tokens": max_new_tokens,
                "temperature": 0, "stream": True, "stream_options": {"include_usage": True}}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        timeout = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        # Leaving the `with` blocks closes the connection, which is how vLLM learns to stop.
        with httpx.Client(timeout=timeout) as client, client.stream(
            "POST", f"{self.base_url}/chat/completions", json=body, headers=headers
        ) as response:
            _raise_for_status(response)
            for line in response.iter_lines():
                if cancel is not None and cancel.is_set():
                    return
                chunk = _chunk(line)
                if chunk is None:
                    continue
                if chunk.get("usage"):
                    stats.prompt_tokens = chunk["usage"].get("prompt_tokens", 0)
                    stats.tokens_generated = chunk["usage"].get("completion_tokens", 0)
                for choice in chunk.get("choices", []):
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece

    def close(self) -> None:
        """Nothing is held between answers."""


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code in (429, 503):  # the server's own "busy": pass it on as ours
        raise Busy(f"the model server is busy (HTTP {response.status_code}); please retry shortly")
    if response.status_code != 200:
        response.read()
        raise ServerError(f"model server answered HTTP {response.status_code}: {response.text[:300]}")


def _chunk(line: str) -> dict | None:
    """One server-sent event's JSON, or None for keep-alives, comments and the end marker."""
    if not line.startswith("data:"):
        return None
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise ServerError(f"model server sent a line that is not JSON: {data[:200]!r}") from exc

