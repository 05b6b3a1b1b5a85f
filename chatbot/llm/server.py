"""The generator for large deployments: an OpenAI-compatible chat server, streamed over HTTP:
vLLM on GPUs (`vllm serve MODEL --enable-lora --lora-modules NAME=DIR`), llama.cpp's server
on CPUs (evals/llamacpp_server.py; tests/test_llamacpp_server.py runs the desk against it).

    CHATBOT_GENERATOR=openai CHATBOT_OPENAI_BASE_URL=http://gpu-box:8000/v1 \\
    CHATBOT_OPENAI_MODEL=ridgeline-lora CHATBOT_MODEL=qwen2.5-0.5b

CHATBOT_MODEL still names the model so the prompt's token budget is measured with its own
tokenizer (only the tokenizer is loaded here). The name the desk asks the server for is
CHATBOT_OPENAI_MODEL if set, else the adapter the registry chooses (chatbot/llm/registry.py:
CHATBOT_ADAPTER, `python -m finetune use NAME`, the newest good one) when the server lists
it (vLLM lists its --lora-modules in /v1/models; llama.cpp its `--lora NAME.gguf` files,
which the desk then turns on per request), else CHATBOT_MODEL; an adapter's name is then the
answer's adapter version. The adapter watch switches names without a restart.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from chatbot.errors import Busy
from chatbot.llm.generation import GenerationStats

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 120.0  # between two streamed chunks, not for the whole answer
log = logging.getLogger(__name__)


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
    _refused: set = field(default_factory=set, repr=False)  # names already warned about
    # llama.cpp's loaded LoRA adapters, name (file stem) -> id; {} for a server without any
    # (vLLM); None until asked.
    _loras: dict[str, int] | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings) -> OpenAIGenerator:
        """A generator for CHATBOT_OPENAI_*, with CHATBOT_MODEL's tokenizer for budgets."""
        from transformers import AutoTokenizer

        from chatbot.llm.loading import resolve_model_path

        tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(settings.model, settings.model_cache_dir))
        generator = cls(settings.openai_base_url.rstrip("/"), settings.openai_model or settings.model,
                        settings.model, tokenizer, settings.openai_api_key.get_secret_value(),
                        settings.openai_model or None)
        if not settings.openai_model:  # the registry's adapter, if the server serves it by name
            from chatbot.llm.adapters import chosen_adapter
            from chatbot.llm.registry import AdapterError

            try:
                generator.use_adapter(chosen_adapter(settings).version)
            except AdapterError as exc:
                log.warning("serving the base model: %s", exc)
        return generator

    def served_names(self) -> set[str] | None:
        """The names the server answers to: /v1/models (vLLM: the base model and each
        --lora-modules name; llama.cpp: its file or alias) and llama.cpp's LoRA adapters by
        file name (`--lora NAME.gguf`); None if it cannot be asked now."""
        try:
            response = httpx.get(f"{self.base_url}/models", headers=self._headers(), timeout=CONNECT_TIMEOUT_S)
            response.raise_for_status()
            names = {m["id"] for m in response.json().get("data", [])}
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None
        self._loras = self._lora_adapters()
        return names | set(self._loras or {})

    def _lora_adapters(self) -> dict[str, int] | None:
        """llama.cpp's GET /lora-adapters as {file stem: id}; {} where there is no such
        endpoint (vLLM) or no adapter; None if the server cannot be asked now."""
        root = self.base_url.removesuffix("/v1")
        try:
            response = httpx.get(f"{root}/lora-adapters", headers=self._headers(), timeout=CONNECT_TIMEOUT_S)
        except httpx.HTTPError:
            return None
        try:
            return {Path(a["path"]).stem: int(a["id"]) for a in response.json()} if response.status_code == 200 else {}
        except (ValueError, KeyError, TypeError):
            return {}

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def use_adapter(self, name: str | None) -> bool:
        """Ask the server for adapter `name` from now on (None: the base model); True if the
        name changed. A name the server does not list is refused and the current one stays:
        vLLM would fail every answer, llama.cpp would ignore the name and answers would be
        recorded with an adapter that never ran. The adapter watch asks again later."""
        wanted = name or self.model_id
        if wanted == self.served_model:
            return False
        if name is not None:
            names = self.served_names()
            if names is None or name not in names:
                (log.debug if name in self._refused else log.warning)(  # once, not every watch round
                    "adapter %r is not served by %s (%s); still asking for %r", name, self.base_url,
                    "unreachable" if names is None else "it serves " + ", ".join(sorted(names)), self.served_model)
                self._refused.add(name)
                return False
        self.served_model, self.adapter_version = wanted, name
        return True

    def stream(self, messages, *, max_new_tokens, cancel=None, stats=None):
        """Yield the server's streamed answer; greedy (temperature 0) like the local model."""
        stats = stats if stats is not None else GenerationStats()
        body = {"model": self.served_model, "messages": messages, "max_tokens": max_new_tokens,
                "temperature": 0, "stream": True, "stream_options": {"include_usage": True}}
        if self._loras is None:
            self._loras = self._lora_adapters()
        if self._loras:  # llama.cpp: the adapter asked for on, every other one off, for this answer
            body["lora"] = [{"id": i, "scale": float(name == self.adapter_version)} for name, i in self._loras.items()]
        headers = self._headers()
        timeout = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        pieces, usage = 0, False
        try:
            # Leaving the `with` blocks closes the connection, which is how vLLM and llama.cpp
            # learn to stop generating (a guard that stopped the answer, a shopper gone).
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
                        usage = True
                        stats.prompt_tokens = chunk["usage"].get("prompt_tokens", 0)
                        stats.tokens_generated = chunk["usage"].get("completion_tokens", 0)
                    if chunk.get("timings"):  # llama.cpp's own prefill and decode times
                        stats.timings = chunk["timings"]
                    for choice in chunk.get("choices", []):
                        piece = (choice.get("delta") or {}).get("content")
                        if piece:
                            pieces += 1
                            yield piece
        finally:
            if not usage:  # stopped before the server's usage chunk: count what we know
                stats.prompt_tokens = len(self.tokenizer.apply_chat_template(
                    messages, add_generation_prompt=True, tokenize=True, return_dict=False))
                stats.tokens_generated = pieces  # both servers stream one token per chunk

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

