"""The served language model as a risk signal: asked "is this shopper upset or about to stop
buying from the shop?", what does it make of the message?

One forward pass over a short prompt (no token is generated) gives two signals:
- `zero_shot`: log P(yes) - log P(no) of its next token, a logit (above 0 it leans "yes");
- `hidden`: its hidden state at the answer position (layer HIDDEN_LAYER of 24), which a
  small logistic head in chatbot/risk/model.py learns to read from the training split.

Measured on the labeled messages (reports/risk.md), the 0.5B Coder model's yes/no is a weak
signal on its own; its hidden state after reading the question carries much more, in
every language it reads, so both are kept.

The question comes before the message, so the prompt up to the message is the same for every
message: it is run once and its key/value cache reused, which halves each pass. Messages
are batched, and results are cached per message text.

The judge loads the base model (`CHATBOT_MODEL`, never the shop's adapter: the adapter is
tuned to answer, not to judge) with the same dtype and int8 weights as generation. On the
2-core CPU of this project a message takes about 0.2-0.35 s alone, which is why the scorer
asks it only about messages the cheap signals are unsure of (chatbot/risk/scoring.py).

Training needs the judge's reading of every labeled message (~5,000 of them: about 20 to 40
minutes on that CPU), so they are kept in a committed file, evals/data/risk/judge-<model>-
p<prompt version>.npz, keyed by a hash of each text; a fresh clone trains from it without
loading the model, and messages missing from it are scored and added when the model is here
(`python evals/data/risk/score_judge.py`).
"""

from __future__ import annotations

import copy
import hashlib
import re
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from chatbot.llm.batching import TURNS

# Bump when the prompt or the features change: scores kept under another version are ignored.
PROMPT_VERSION = "1"
SYSTEM = "You sort messages sent to an online shop's support chat."
QUESTION = "Is this shopper upset or about to stop buying from the shop? Answer yes or no."
HIDDEN_LAYER = 16  # of 24: middle-late layers read better with a linear head than the last
MAX_MESSAGE_CHARS = 600  # a 100 KB paste is judged on its start; anger shows early
BATCH = 16
CACHE_SIZE = 4096
_MARKER = "\x00MESSAGE\x00"


def judge_key(model: str) -> str:
    """What a kept reading depends on: the model and the prompt version."""
    return f"{model}|prompt-{PROMPT_VERSION}|layer-{HIDDEN_LAYER}"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Reading:
    """What the judge made of some messages, row by row."""

    zero_shot: np.ndarray  # (n,) log P(yes) - log P(no)
    hidden: np.ndarray  # (n, d) float32

    def __len__(self) -> int:
        return len(self.zero_shot)


class Judge:
    """A loaded causal LM asked one yes/no question per message."""

    def __init__(self, loaded, key: str):
        self.loaded = loaded
        self.key = key
        tokenizer = loaded.tokenizer
        self._yes = _first_tokens(tokenizer, ("yes", "Yes", " yes", " Yes", "YES"))
        self._no = _first_tokens(tokenizer, ("no", "No", " no", " No", "NO"))
        self._cache: OrderedDict[str, tuple[float, np.ndarray]] = OrderedDict()
        # Turns are scored from several request threads: one reading at a time keeps the cache
        # consistent and the two cores busy with one forward pass instead of fighting over them.
        self._lock = threading.Lock()

    @classmethod
    def load(cls, settings) -> Judge:
        """Load the configured base model; raises ModelUnavailable when it is not pulled."""
        from chatbot.llm.loading import load_model

        return cls(load_model(settings), judge_key(settings.model))

    def prompt(self, text: str) -> str:
        """The whole prompt for text: the shared prefix, the message, the answer's start."""
        return self._template[0] + self._message_part(text)

    def read(self, texts: list[str], *, progress: bool = False) -> Reading:
        """The judge's reading of each text, batched, from the cache where seen before."""
        with self._lock:
            return self._read(texts, progress)

    def _read(self, texts: list[str], progress: bool) -> Reading:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        missing.sort(key=len)  # similar lengths in a batch waste less on padding
        batches = range(0, len(missing), BATCH)
        if progress and missing:
            from tqdm import tqdm

            batches = tqdm(batches, desc="judge", unit="batch", file=sys.stderr)
        for start in batches:
            chunk = missing[start : start + BATCH]
            for text, zero_shot, hidden in zip(chunk, *self._forward(chunk)):
                self._remember(text, (zero_shot, hidden))
        rows = [self._cache[t] for t in texts]
        return Reading(
            np.array([r[0] for r in rows], dtype=np.float32),
            np.array([r[1] for r in rows], dtype=np.float32).reshape(len(rows), -1),
        )

    @cached_property
    def _template(self) -> tuple[str, str]:
        whole = self.loaded.tokenizer.apply_chat_template(
            [{"role": "system", "content": SYSTEM},
             {"role": "user", "content": f"{QUESTION}\n\nMessage:\n{_MARKER}"}],
            tokenize=False, add_generation_prompt=True,
        )
        before, after = whole.split(_MARKER)
        return before, after

    def _message_part(self, text: str) -> str:
        text = re.sub(r"\s+", " ", text[:MAX_MESSAGE_CHARS]).strip() or "(empty)"
        return text + self._template[1]

    @cached_property
    def _prefix(self):
        import torch

        ids = self.loaded.tokenizer(self._template[0], return_tensors="pt").input_ids
        with TURNS, torch.inference_mode():
            cache = self.loaded.model(input_ids=ids.to(self.loaded.device), use_cache=True).past_key_values
        return ids.shape[1], cache

    def _forward(self, texts: list[str]) -> tuple[list[float], list[np.ndarray]]:
        import torch

        tokenizer, model, device = self.loaded.tokenizer, self.loaded.model, self.loaded.device
        length, prefix_cache = self._prefix
        # Left-padded: the answer is read at the last position of every row.
        rest = tokenizer([self._message_part(t) for t in texts], add_special_tokens=False,
                         return_tensors="pt", padding=True, padding_side="left")
        ids, mask = rest.input_ids.to(device), rest.attention_mask.to(device)
        batch = ids.shape[0]
        cache = copy.deepcopy(prefix_cache)
        cache.batch_repeat_interleave(batch)
        # Pads sit between the prefix and each message: masked out, and positions count only
        # real tokens, so a message is read as it would be alone (up to bf16 rounding).
        positions = (length + mask.cumsum(dim=1) - 1).clamp(min=length)
        full_mask = torch.cat([torch.ones(batch, length, dtype=mask.dtype, device=device), mask], 1)
        # The desk's generation workers may share this model: one pass at a time (batching.TURNS).
        with TURNS, torch.inference_mode():
            out = model(input_ids=ids, attention_mask=full_mask, position_ids=positions,
                        cache=cache, use_cache=True, logits_to_keep=1,
                        output_hidden_states=True)
        logp = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
        zero_shot = torch.logsumexp(logp[:, self._yes], dim=-1) - torch.logsumexp(logp[:, self._no], dim=-1)
        layer = min(HIDDEN_LAYER, len(out.hidden_states) - 1)  # a small test model has fewer
        hidden = out.hidden_states[layer][:, -1].float().cpu().numpy()
        return [round(float(v), 4) for v in zero_shot], list(hidden)

    def _remember(self, text: str, reading: tuple[float, np.ndarray]) -> None:
        self._cache[text] = reading
        self._cache.move_to_end(text)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)


def _first_tokens(tokenizer, words: tuple[str, ...]) -> list[int]:
    return sorted({tokenizer.encode(w, add_special_tokens=False)[0] for w in words})


def readings_path(folder: Path, key: str) -> Path:
    """Where the kept readings for this judge key live (one file per model and prompt)."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", key).strip("-")
    return Path(folder) / f"judge-{slug}.npz"


class KeptReadings:
    """The committed readings of labeled messages for one judge key, by text hash.

    Hidden states are kept as float16 (5,000 x 896 is 9 MB); the zero-shot logit as float32."""

    def __init__(self, folder: Path, key: str):
        self.key = key
        self.path = readings_path(folder, key)
        self.index: dict[str, int] = {}
        self.zero_shot = np.zeros(0, dtype=np.float32)
        self.hidden = np.zeros((0, 0), dtype=np.float16)
        if self.path.exists():
            with np.load(self.path) as data:
                if str(data["key"]) == key:
                    self.index = {h: i for i, h in enumerate(data["hashes"].tolist())}
                    self.zero_shot, self.hidden = data["zero_shot"], data["hidden"]

    def missing(self, texts: list[str]) -> list[str]:
        return list(dict.fromkeys(t for t in texts if text_hash(t) not in self.index))

    def get(self, texts: list[str]) -> Reading | None:
        """The kept readings of texts, or None when any of them is missing."""
        if self.missing(texts):
            return None
        rows = [self.index[text_hash(t)] for t in texts]
        return Reading(self.zero_shot[rows].astype(np.float32), self.hidden[rows].astype(np.float32))

    def add(self, texts: list[str], reading: Reading) -> None:
        new = [(text_hash(t), i) for i, t in enumerate(texts) if text_hash(t) not in self.index]
        if not new:
            return
        rows = [i for _, i in new]
        hidden = reading.hidden[rows].astype(np.float16)
        self.hidden = hidden if self.hidden.size == 0 else np.vstack([self.hidden, hidden])
        self.zero_shot = np.concatenate([self.zero_shot, reading.zero_shot[rows]]).astype(np.float32)
        for h, _ in new:
            self.index[h] = len(self.index)

    def fill(self, judge: Judge, texts: list[str], *, progress: bool = True, chunk: int = 160) -> Reading:
        """Readings of texts, asking the judge for the missing ones and saving as it goes."""
        missing = self.missing(texts)
        if missing and progress:
            print(f"risk judge: reading {len(missing)} labeled messages with {judge.key} "
                  f"(kept in {self.path})", file=sys.stderr, flush=True)
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            self.add(part, judge.read(part))
            self.save()
            if progress:
                print(f"  {min(start + chunk, len(missing))}/{len(missing)}", file=sys.stderr, flush=True)
        return self.get(texts)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        hashes = sorted(self.index, key=self.index.get)
        np.savez_compressed(tmp, key=np.array(self.key), hashes=np.array(hashes),
                            zero_shot=self.zero_shot, hidden=self.hidden)
        tmp.replace(self.path)
