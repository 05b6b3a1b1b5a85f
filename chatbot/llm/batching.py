"""Dynamic batching: one worker thread owns the model and decodes every running answer in
one forward pass per token; answers join the batch when they arrive and leave when done.

Why not one lock around `model.generate`: a 135M model's decode step on a CPU is bound by
reading the weights, so eight answers decoded together cost little more than one. Why not
transformers' continuous batching (`init_continuous_batching`): its paged attention is
built for GPUs and measured ~10x slower than this loop on a 2-core CPU.

The batch's KV cache is left-padded: row i's real tokens are the last ones of its row, the
attention mask hides the padding, and position ids count only real tokens, so a row
decodes exactly as it would alone. The cache grows in place (no copy per token); it is
copied only when an answer joins (aligned to the longer side) or leaves (rows dropped,
all-padding columns trimmed). Recent prompts' caches are kept so that a new prompt that
starts the same way (the system rules, a conversation's earlier turns) skips that prefill.
"""

from __future__ import annotations

import atexit
import queue
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

import torch
from transformers.cache_utils import Cache, DynamicCache, DynamicLayer

from chatbot.errors import Busy
from shopcore.threads import set_threads

PREFIX_CACHE_SIZE = 4  # recent prompts whose KV cache is kept for prefix reuse
MIN_PREFIX = 16  # shorter shared prefixes are not worth the copy
END = object()  # the last item of a request's output queue


@dataclass
class Request:
    input_ids: list[int]
    max_new_tokens: int
    stops: tuple[threading.Event, ...]  # any one set: stop this answer
    out: queue.Queue = field(default_factory=queue.Queue)  # str pieces, then END or an exception
    generated: list[int] = field(default_factory=list)
    shown: str = ""  # text already put on `out`

    @property
    def stopped(self) -> bool:
        return any(stop.is_set() for stop in self.stops)


class _BufferLayer(DynamicLayer):
    """One layer's K/V for the whole batch in a preallocated buffer that grows in place."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, length: int):
        super().__init__()
        self.buffer_k, self.buffer_v, self.length = keys, values, length
        self.dtype, self.device, self.is_initialized = keys.dtype, keys.device, True
        self._views()

    def _views(self) -> None:
        self.keys = self.buffer_k[:, :, : self.length]
        self.values = self.buffer_v[:, :, : self.length]

    def update(self, key_states, value_states, *args, **kwargs):
        n = key_states.shape[-2]
        if self.length + n > self.buffer_k.shape[2]:
            self.buffer_k = _grow(self.buffer_k, self.length + n)
            self.buffer_v = _grow(self.buffer_v, self.length + n)
        self.buffer_k[:, :, self.length : self.length + n] = key_states
        self.buffer_v[:, :, self.length : self.length + n] = value_states
        self.length += n
        self._views()
        return self.keys, self.values

    def get_seq_length(self) -> int:
        return self.length


def _grow(buffer: torch.Tensor, needed: int) -> torch.Tensor:
    # Grow by half again (at least 64 tokens) so growing costs O(1) amortized per token.
    capacity = max(needed, buffer.shape[2] + max(64, buffer.shape[2] // 2))
    grown = buffer.new_zeros(*buffer.shape[:2], capacity, buffer.shape[3])
    grown[:, :, : buffer.shape[2]] = buffer
    return grown


class BatchCache(DynamicCache):
    """The running batch's cache: per-layer buffers of shape (batch, kv heads, capacity, dim)."""

    def __init__(self, layers: list[_BufferLayer]):
        Cache.__init__(self, layers=layers)

    @classmethod
    def right_aligned(cls, parts: list[tuple[list[torch.Tensor], list[torch.Tensor]]],
                      lengths: list[int], spare: int) -> BatchCache:
        """Stack caches of different lengths into one, each part's tokens at its rows' end."""
        length = max(lengths)
        layers = []
        for layer in range(len(parts[0][0])):
            rows = [keys[layer] for keys, _ in parts]
            shape = (sum(r.shape[0] for r in rows), rows[0].shape[1], length + spare, rows[0].shape[3])
            buffers = []
            for side in (0, 1):
                buffer = rows[0].new_zeros(shape)
                row = 0
                for (keys, values), n in zip(parts, lengths):
                    part = (keys, values)[side][layer][:, :, -n:] if n else None
                    if part is not None:
                        buffer[row : row + part.shape[0], :, length - n : length] = part
                    row += (keys, values)[side][layer].shape[0]
                buffers.append(buffer)
            layers.append(_BufferLayer(buffers[0], buffers[1], length))
        return cls(layers)

    def tensors(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The filled part of every layer, keys and values."""
        return [layer.keys for layer in self.layers], [layer.values for layer in self.layers]

    def keep(self, rows: torch.Tensor, drop_columns: int) -> None:
        """Keep only `rows`, and drop the first `drop_columns` (padding in every kept row)."""
        for layer in self.layers:
            layer.buffer_k = layer.buffer_k[rows, :, drop_columns:].contiguous()
            layer.buffer_v = layer.buffer_v[rows, :, drop_columns:].contiguous()
            layer.length -= drop_columns
            layer._views()


# Workers of one process (the served model and the base model beside it) take turns, one
# prefill or decode step each: two thread teams on the same cores at once slowed both
# several times over (a conversation took 10.6 s instead of 1.7 in the conversations suite).
TURNS = threading.Lock()


class BatchingWorker:
    """Owns a causal LM; `submit()` queues a prompt and returns the queue its text arrives on."""

    def __init__(self, model, tokenizer, device: torch.device, *, max_batch: int, max_queue: int,
                 repetition_penalty: float = 1.0, threads: int = 0):
        self.model, self.tokenizer, self.device = model, tokenizer, device
        self.threads = threads
        self.max_batch, self.max_queue = max_batch, max_queue
        self.repetition_penalty = repetition_penalty
        self.unpenalized = verbatim_tokens(tokenizer) if repetition_penalty != 1.0 else set()
        eos = model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos if eos is not None else tokenizer.eos_token_id]
        self.eos = set(eos) | {tokenizer.eos_token_id}
        self._waiting: list[Request] = []
        self._between_batches: list[tuple[callable, threading.Event, list]] = []
        self._wake = threading.Condition()
        self._prefixes: OrderedDict[tuple[int, ...], tuple[list, list]] = OrderedDict()
        self._rows: list[Request] = []
        self._cache: BatchCache | None = None
        self._mask: torch.Tensor | None = None  # (rows, columns): 1 for real tokens
        self._next: torch.Tensor | None = None  # (rows, 1): each row's next input token
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="generation-worker", daemon=True)
        self._thread.start()
        # Stop between two steps at exit: a daemon thread killed inside a torch kernel aborts
        # the process ("terminate called without an active exception").
        atexit.register(_close_at_exit, weakref.ref(self))

    def submit(self, input_ids: list[int], max_new_tokens: int, *stops: threading.Event) -> Request:
        """Queue one prompt, to run until done or any of `stops` is set; raises Busy when
        max_queue prompts are already waiting for a batch slot."""
        request = Request(list(input_ids), max_new_tokens, stops)
        with self._wake:
            if self._closed:
                raise Busy("the model is shutting down")
            if len(self._waiting) >= self.max_queue and len(self._rows) >= self.max_batch:
                raise Busy(f"{len(self._waiting)} answers are already waiting; please retry shortly")
            self._waiting.append(request)
            self._wake.notify()
        return request

    def between_batches(self, action) -> None:
        """Run action(model) on the worker once the running batch has drained (new prompts
        wait meanwhile); block until it has run. Used to swap a LoRA adapter."""
        done, failure = threading.Event(), []
        with self._wake:
            self._between_batches.append((action, done, failure))
            self._wake.notify()
        done.wait()
        if failure:
            raise failure[0]

    def close(self) -> None:
        """Stop the worker thread once the running batch step ends; waiting prompts get Busy."""
        with self._wake:
            self._closed = True
            for request in self._waiting:
                request.out.put(Busy("the model is shutting down"))
            self._waiting = []
            self._wake.notify()
        self._thread.join(timeout=10)

    @property
    def running(self) -> bool:
        """Whether the worker can take prompts (not closed, its thread alive)."""
        return not self._closed and self._thread.is_alive()

    @property
    def load(self) -> tuple[int, int]:
        """(running, waiting) answers, for metrics."""
        return len(self._rows), len(self._waiting)

    def _loop(self) -> None:
        if self.device.type == "cpu":  # this thread's team is the process's one (chatbot/llm/cpu.py)
            set_threads(self.threads)
        with torch.inference_mode():
            while not self._closed:
                joining = self._next_work()
                with TURNS:  # one model pass at a time in this process (see TURNS)
                    for request in joining:
                        self._guarded(self._join, request, rows=[request])
                    if self._rows:
                        self._guarded(self._step, rows=list(self._rows))

    def _next_work(self) -> list[Request]:
        """Wait until there is something to do; return the prompts that join the batch now."""
        with self._wake:
            while not self._closed:
                if self._between_batches and not self._rows:
                    self._run_between_batches()
                    continue
                if self._between_batches:  # drain first: admit nobody until the swap is done
                    return []
                free = self.max_batch - len(self._rows)
                joining, self._waiting = self._waiting[:free], self._waiting[free:]
                if joining or self._rows:
                    return joining
                self._wake.wait()
            return []

    def _run_between_batches(self) -> None:
        action, done, failure = self._between_batches.pop(0)
        try:
            action(self.model)
        except Exception as exc:  # reported to the caller of between_batches
            failure.append(exc)
        self._prefixes.clear()  # cached prefixes belong to the old weights
        done.set()

    def _guarded(self, work, *args, rows: list[Request]) -> None:
        try:
            work(*args)
        except Exception as exc:  # the model failed: those answers end with the error
            for request in rows:
                request.out.put(exc)
            self._drop({id(r) for r in rows})

    def _join(self, request: Request) -> None:
        """Prefill one prompt (reusing a cached prefix) and add it to the running batch."""
        if request.stopped:
            request.out.put(END)
            return
        keys, values, logits = self._prefill(request.input_ids)
        token = int(logits[0, -1].argmax())
        parts = [(keys, values)]
        lengths = [len(request.input_ids)]
        spare = request.max_new_tokens
        if self._rows:
            parts.insert(0, self._cache.tensors())
            lengths.insert(0, self._mask.shape[1])
            spare = max(spare, max(r.max_new_tokens - len(r.generated) for r in self._rows))
        self._cache = BatchCache.right_aligned(parts, lengths, spare)
        width = max(lengths)
        new_mask = torch.zeros(1, width, dtype=torch.long, device=self.device)
        new_mask[:, width - lengths[-1]:] = 1
        old = [] if len(parts) == 1 else [torch.nn.functional.pad(self._mask, (width - lengths[0], 0))]
        self._mask = torch.cat([*old, new_mask])
        self._next = torch.cat([*([] if len(parts) == 1 else [self._next]),
                                torch.tensor([[token]], device=self.device)])
        self._rows.append(request)
        self._emit(request, token)
        self._retire()

    def _prefill(self, ids: list[int]):
        """K/V and logits of a prompt, computing only what no cached prompt shares."""
        reuse, cached = 0, None
        for prefix, kv in self._prefixes.items():
            shared = _shared_length(prefix, ids)
            if shared > reuse:
                reuse, cached = shared, kv
        reuse = min(reuse, len(ids) - 1)  # at least one token must run to get logits
        cache = DynamicCache()
        if reuse >= MIN_PREFIX:
            cache = DynamicCache([(k[:, :, :reuse], v[:, :, :reuse]) for k, v in zip(*cached)])
        else:
            reuse = 0
        tensor = torch.tensor([ids[reuse:]], device=self.device)
        output = self.model(input_ids=tensor, past_key_values=cache, use_cache=True, logits_to_keep=1)
        keys = [layer.keys for layer in output.past_key_values.layers]
        values = [layer.values for layer in output.past_key_values.layers]
        self._prefixes[tuple(ids)] = (keys, values)
        while len(self._prefixes) > PREFIX_CACHE_SIZE:
            self._prefixes.popitem(last=False)
        return keys, values, output.logits

    def _step(self) -> None:
        """One decode step for every running answer."""
        self._mask = torch.nn.functional.pad(self._mask, (0, 1), value=1)
        positions = self._mask.sum(dim=1, keepdim=True) - 1
        output = self.model(input_ids=self._next, attention_mask=self._mask, position_ids=positions,
                            past_key_values=self._cache, use_cache=True)
        self._next = self._penalized(output.logits[:, -1]).argmax(dim=-1, keepdim=True)
        for request, token in zip(self._rows, self._next[:, 0].tolist()):
            self._emit(request, token)
        self._retire()

    def _penalized(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits with each row's own generated words penalized (CTRL-style), so a small
        model does not loop; prompt tokens are not, so quoting the evidence stays cheap, and
        neither are digits and punctuation (see `verbatim_tokens`)."""
        if self.repetition_penalty == 1.0:
            return logits
        for row, request in enumerate(self._rows):
            repeated = set(request.generated) - self.unpenalized
            if repeated:
                seen = torch.tensor(sorted(repeated), device=logits.device)
                scores = logits[row, seen]
                logits[row, seen] = torch.where(scores > 0, scores / self.repetition_penalty,
                                                scores * self.repetition_penalty)
        return logits

    def _emit(self, request: Request, token: int) -> None:
        if token in self.eos:
            request.max_new_tokens = len(request.generated)  # finished: retire it
            return
        request.generated.append(token)
        text = self.tokenizer.decode(request.generated, skip_special_tokens=True)
        # Hold back a half-decoded multi-byte character until its last token arrives.
        if len(text) > len(request.shown) and not text.endswith("\ufffd"):
            request.out.put(text[len(request.shown):])
            request.shown = text

    def _retire(self) -> None:
        done = {id(r) for r in self._rows
                if r.stopped or len(r.generated) >= r.max_new_tokens}
        for request in self._rows:
            if id(request) in done:
                request.out.put(END)
        self._drop(done)

    def _drop(self, ids: set[int]) -> None:
        keep = [i for i, r in enumerate(self._rows) if id(r) not in ids]
        if len(keep) == len(self._rows):
            return
        self._rows = [self._rows[i] for i in keep]
        if not self._rows:
            self._cache = self._mask = self._next = None
            return
        rows = torch.tensor(keep, device=self.device)
        mask = self._mask[rows]
        # Columns that are padding in every remaining row are dead weight: trim them.
        drop = int((mask.sum(dim=0) == 0).long().cumprod(dim=0).sum())
        self._cache.keep(rows, drop)
        self._mask, self._next = mask[:, drop:], self._next[rows]


def verbatim_tokens(tokenizer) -> set[int]:
    """Ids of the tokens without a letter or a line break: digits, punctuation, spaces. The
    repetition penalty leaves them alone, since every price, date, order and tracking number
    repeats them (a tokenizer that splits numbers into digits makes "2026-10-28" use "2"
    three times): a penalized digit turns a quoted fact into an invented one, which the fact
    guard rejects. Line breaks stay penalized: a run of empty lines is how a small model loops."""
    texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
    return {i for i, text in enumerate(texts) if not any(ch.isalpha() or ch == "\n" for ch in text)}


def _close_at_exit(worker: weakref.ref) -> None:
    if worker() is not None:
        worker().close()


def _shared_length(a: tuple[int, ...], b: list[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n
