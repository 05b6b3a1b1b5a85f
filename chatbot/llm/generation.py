"""Turn chat messages into a stream of answer text, on whatever backend serves the model.

`Generator` is the seam: the pipeline only calls `stream()`. `HFGenerator` runs a
transformers model in this process behind a dynamic-batching worker (chatbot/llm/batching.py);
`OpenAIGenerator` (chatbot/llm/server.py) streams from an OpenAI-compatible server (vLLM,
llama.cpp) for large deployments. `build_generator()` picks one from the settings.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from chatbot.llm.batching import END, BatchingWorker
from chatbot.llm.loading import LoadedModel


@dataclass
class GenerationStats:
    """Filled in while a stream runs; read it after the stream ends."""

    prompt_tokens: int = 0
    tokens_generated: int = 0
    timings: dict | None = None  # a server's own timings, when it sends them (llama.cpp)


class Generator(Protocol):
    model_id: str
    adapter_version: str | None
    tokenizer: object

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_new_tokens: int,
        cancel: threading.Event | None = None,
        stats: GenerationStats | None = None,
    ) -> Iterator[str]:
        """Yield pieces of the answer as they are produced; greedy, so reproducible."""
        ...


class HFGenerator:
    """A transformers model in this process, served by a dynamic-batching worker thread."""

    def __init__(self, loaded: LoadedModel, adapter_version: str | None = None, *,
                 max_batch: int = 8, max_queue: int = 32, repetition_penalty: float = 1.0):
        self.loaded = loaded
        self.adapter_version = adapter_version
        self.worker = BatchingWorker(loaded.model, loaded.tokenizer, loaded.device,
                                     max_batch=max_batch, max_queue=max_queue,
                                     repetition_penalty=repetition_penalty, threads=loaded.threads)

    @property
    def model_id(self) -> str:
        return self.loaded.model_id

    @property
    def tokenizer(self):
        return self.loaded.tokenizer

    def stream(self, messages, *, max_new_tokens, cancel=None, stats=None):
        stats = stats if stats is not None else GenerationStats()
        ids = self.loaded.tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                        tokenize=True, return_dict=False)
        stats.prompt_tokens = len(ids)
        # Our own flag, so that a consumer leaving early ends this answer's row without
        # touching the caller's cancel event, which the worker watches too.
        stop = threading.Event()
        request = self.worker.submit(ids, max_new_tokens, *(e for e in (stop, cancel) if e))
        try:
            while True:
                item = request.out.get()
                if item is END or (cancel is not None and cancel.is_set()):
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            stats.tokens_generated = len(request.generated)

    @property
    def ready(self) -> bool:
        """Whether a turn can be answered now (for /readyz)."""
        return self.worker.running

    def close(self) -> None:
        """Stop the worker thread (tests and shutdown)."""
        self.worker.close()

    def swap_model(self, prepare, adapter_version: str | None) -> None:
        """Replace the model between batches: `prepare(model) -> model` (e.g. load a LoRA
        adapter onto it) runs on the worker once the running answers have finished, so no
        answer mixes two adapters. Blocks until done."""
        def action(model):
            new = prepare(model)
            self.worker.model = self.loaded.model = new
        self.worker.between_batches(action)
        self.adapter_version = adapter_version


def build_generator(settings) -> Generator:
    """The generator CHATBOT_GENERATOR asks for, with its model loaded or its server found."""
    if settings.generator == "openai":
        from chatbot.llm.server import OpenAIGenerator

        return OpenAIGenerator.from_settings(settings)
    from chatbot.llm.adapters import chosen_adapter
    from chatbot.llm.loading import load_model

    choice = chosen_adapter(settings)  # CHATBOT_ADAPTER, the registry's ACTIVE, or the newest good one
    return HFGenerator(load_model(settings, adapter=choice.path), choice.version, max_batch=settings.max_batch,
                       max_queue=settings.max_queue, repetition_penalty=settings.repetition_penalty)


def build_base_generator(settings, served: Generator) -> Generator | None:
    """The configured model without the shop's adapter, beside the served one, when that one
    has an adapter merged in: it rewrites questions and answers in the languages the adapter
    was not trained in (its training set is the shop's own language). None when the served
    generator is the base model already, or a server serves the model."""
    if settings.generator == "openai" or served.adapter_version is None:
        return None
    from chatbot.llm.loading import load_model

    return HFGenerator(load_model(settings), None, max_batch=settings.max_batch, max_queue=settings.max_queue,
                       repetition_penalty=settings.repetition_penalty)


def translates(settings) -> bool:
    """Whether CHATBOT_TRANSLATION_MODEL is loaded beside the served model: one is set, it is
    another, the shop answers in more languages than its documents', and the desk loads models
    itself (with a model server, CHATBOT_GENERATOR=openai, its workers load none: the served
    model translates)."""
    return (bool(settings.translation_model) and settings.translation_model != settings.model
            and len(settings.shop_languages) > 1 and settings.generator != "openai")


def build_translator(settings) -> Generator | None:
    """CHATBOT_TRANSLATION_MODEL loaded beside the served model, without an adapter; None when
    `translates` says not (the base generator translates then, if anything)."""
    if not translates(settings):
        return None
    from chatbot.llm.loading import load_model

    loaded = load_model(settings.model_copy(update={"model": settings.translation_model}))
    return HFGenerator(loaded, None, max_batch=settings.max_batch, max_queue=settings.max_queue,
                       repetition_penalty=settings.repetition_penalty)
