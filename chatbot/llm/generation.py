"""Turn chat messages into a stream of answer text, on whatever backend serves the model.

`Generator` is the seam: the pipeline only calls `stream()`. `HFGenerator` runs a
transformers model in this process; a server backend (vLLM's OpenAI-compatible API) can
implement the same protocol for large deployments.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import torch

from chatbot.llm.loading import LoadedModel


class GenerationCancelled(Exception):
    """The caller stopped listening (a shopper closed the page) before the answer finished."""


@dataclass
class GenerationStats:
    """Filled in while a stream runs; read it after the stream ends."""

    prompt_tokens: int = 0
    tokens_generated: int = 0


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


@dataclass
class HFGenerator:
    """A transformers model generating in a background thread, streamed piece by piece."""

    loaded: LoadedModel
    adapter_version: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def model_id(self) -> str:
        return self.loaded.model_id

    @property
    def tokenizer(self):
        return self.loaded.tokenizer

    def stream(self, messages, *, max_new_tokens, cancel=None, stats=None):
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        cancel = cancel or threading.Event()
        stats = stats if stats is not None else GenerationStats()
        tokenizer = self.loaded.tokenizer
        inputs = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(self.loaded.device)
        stats.prompt_tokens = int(inputs["input_ids"].shape[1])
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)

        # stop: the consumer left early; cancel: the caller asked to stop. Either ends the run.
        stop = threading.Event()

        class StopWhenCancelled(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return stop.is_set() or cancel.is_set()

        failure: list[BaseException] = []

        def run() -> None:
            try:
                with self._lock, torch.inference_mode():
                    output = self.loaded.model.generate(
                        **inputs,
                        max_new_tokens=max_new_tokens,
                        do_sample=False,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([StopWhenCancelled()]),
                        pad_token_id=tokenizer.pad_token_id,
                    )
                stats.tokens_generated = int(output.shape[1] - stats.prompt_tokens)
            except BaseException as exc:  # surfaced to the consumer below
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        try:
            for piece in streamer:
                if piece:
                    yield piece
        finally:
            # A consumer that stops early (GeneratorExit) ends the model run too.
            stop.set()
            worker.join()
        if failure:
            raise failure[0]
