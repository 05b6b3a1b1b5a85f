"""Latency suite: time to first token and decode speed of the desk's model on this machine,
for ~400-token prompts, one shopper and eight at once, against llama.cpp on the same GGUF
file in the same run.

    python -m evals.llamacpp_env            # once: builds llama-cpp-python in var/ (minutes)
    python -m evals run --suite latency

Each configuration of ours (dtype, int8 quantization, threads) loads the model, answers one
warm-up prompt, then the same real pipeline prompts (dev questions with their evidence, cut
to PROMPT_TOKENS by build_prompt) one at a time; then SHOPPERS of them at once through the
batching worker, against the same prompts one after another. llama.cpp answers the same
prompt text, rendered by the same chat template. All numbers are medians over the prompts.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import threading
import time
from pathlib import Path

from tqdm import tqdm

from chatbot.errors import Busy
from evals.suite import SuiteResult, dev_questions

PROMPT_TOKENS = 400
PROMPTS = 8
NEW_TOKENS = 128
SHOPPERS = 8
# (label, settings overrides); the first is what the desk serves with by default.
CONFIGURATIONS = [
    ("default", {}),
    ("float32", {"dtype": "float32", "quantize": "none"}),
    ("bf16, float weights", {"dtype": "bfloat16", "quantize": "none"}),
    ("int8 dynamic", {"dtype": "float32", "quantize": "int8"}),
    ("default, 1 thread", {"threads": 1}),
]


def benchmark_prompts(settings, tokenizer, count: int | None = None) -> list[list[dict]]:
    """Real prompts of about PROMPT_TOKENS tokens: dev questions with their evidence."""
    from chatbot.prompt import build_prompt
    from evals.answers import load_context

    context, count = load_context(settings), count or PROMPTS
    prompts = []
    for question in dev_questions():
        if question["doc_ids"] and not question.get("customer_id"):
            evidence = context.retriever.evidence(question["question"], 8)
            prompt = build_prompt(question["question"], evidence, [], tokenizer=tokenizer,
                                  shop=settings.shop_name, tone=settings.shop_tone, budget=PROMPT_TOKENS)
            if prompt.tokens >= PROMPT_TOKENS * 0.9:
                prompts.append(prompt.messages)
        if len(prompts) == count + 1:  # one more, for warming up
            return prompts
    raise RuntimeError(f"fewer than {count + 1} dev questions make a {PROMPT_TOKENS}-token prompt")


def timed(generator, messages) -> dict:
    """One answer: time to first piece, tokens, and decode time after the first."""
    from chatbot.llm.generation import GenerationStats

    stats, stamps = GenerationStats(), []
    started = time.perf_counter()
    for _ in generator.stream(messages, max_new_tokens=NEW_TOKENS, stats=stats):
        stamps.append(time.perf_counter())
    return {"ttft_s": stamps[0] - started, "tokens": stats.tokens_generated,
            "decode_s": stamps[-1] - stamps[0], "prompt_tokens": stats.prompt_tokens,
            "started": started, "ended": stamps[-1], "stamps": stamps}


def all_decoding(together: list[dict]) -> float:
    """Tokens/s while every shopper decodes at once: pieces shown between the last shopper's
    first piece and the first shopper's last, over that time (no prefill falls inside)."""
    start, end = max(r["stamps"][0] for r in together), min(r["stamps"][-1] for r in together)
    pieces = sum(1 for r in together for stamp in r["stamps"] if start < stamp <= end)
    return pieces / (end - start) if end > start else float("nan")


def concurrent(generator, prompts: list[list[dict]]) -> tuple[list[dict], int, int]:
    """All prompts at once, one thread per shopper: results, busy replies, lost requests."""
    results, busy, lost = [], [0], [0]

    def shopper(messages):
        try:
            results.append(timed(generator, messages))
        except Busy:
            busy[0] += 1
        except Exception:  # anything else is a lost request, which the suite reports
            lost[0] += 1

    threads = [threading.Thread(target=shopper, args=(m,)) for m in prompts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, busy[0], lost[0]


def ours(settings, label: str, overrides: dict, prompts) -> dict:
    """One configuration of the desk's generator: single-shopper and concurrent numbers."""
    from chatbot.llm.generation import HFGenerator
    from chatbot.llm.loading import load_model

    generator = HFGenerator(load_model(settings.model_copy(update=overrides)),
                            max_batch=SHOPPERS, max_queue=SHOPPERS)
    try:
        timed(generator, prompts[0])  # warm-up: first-call allocations, lazy init
        single = [timed(generator, m) for m in tqdm(prompts[1:], desc=f"{label}: one at a time")]
        row = summarize(label, single)
        if label == "default":
            together, busy, lost = concurrent(generator, prompts[1:])
            # Decode throughput of the crowd: tokens after each first one, over the time from
            # the first answer's first token to the last answer's end (later prefills included).
            decoding = max(r["ended"] for r in together) - min(r["started"] + r["ttft_s"] for r in together)
            wall_single = sum(r["ended"] - r["started"] for r in single)
            wall_together = max(r["ended"] for r in together) - min(r["started"] for r in together)
            row.update(shoppers_decode_tokens_per_s=sum(r["tokens"] - 1 for r in together) / decoding,
                       shoppers_all_decoding_tokens_per_s=all_decoding(together),
                       shoppers_wall_speedup=(sum(r["tokens"] for r in together) / wall_together)
                       / (sum(r["tokens"] for r in single) / wall_single),
                       shoppers_answered=len(together), shoppers_busy=busy, shoppers_lost=lost,
                       shoppers_ttft_p50_s=statistics.median(r["ttft_s"] for r in together))
        return row
    finally:
        generator.close()


def summarize(label: str, results: list[dict]) -> dict:
    return {
        "engine": label,
        "prompt_tokens": statistics.median(r["prompt_tokens"] for r in results),
        "ttft_p50_s": statistics.median(r["ttft_s"] for r in results),
        "decode_tokens_per_s": statistics.median(
            (r["tokens"] - 1) / r["decode_s"] for r in results if r["tokens"] > 1 and r["decode_s"]),
        "tokens_p50": statistics.median(r["tokens"] for r in results),
    }


def llamacpp(settings, tokenizer, prompts) -> dict | None:
    """llama.cpp on the same GGUF and prompt text, in its own environment; None without it."""
    from evals.llamacpp_env import python_path
    from shopcore import catalog

    model = catalog.find(settings.model)
    gguf = catalog.joined_file(model, settings.model_cache_dir) if model is not None else None
    python = python_path()
    if python is None or gguf is None or not gguf.exists():
        return None
    texts = [tokenizer.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m in prompts]
    job = {"gguf": str(gguf), "prompts": texts, "max_tokens": NEW_TOKENS,
           "threads": settings.threads or _cores()}
    # Our one-thread OpenMP default (chatbot/__init__.py) is ours; the peer gets its own.
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    done = subprocess.run([str(python), str(Path(__file__).with_name("llamacpp_bench.py"))],
                          input=json.dumps(job), capture_output=True, text=True, check=True, env=env)
    results = json.loads(done.stdout)["results"][1:]  # the first warmed it up
    return summarize("llama.cpp (Q4_1 GGUF)", results)


def _cores() -> int:
    return os.cpu_count() or 1


def latency_suite() -> SuiteResult:
    """TTFT and decode tokens/s, batch 1 and 8 shoppers, against llama.cpp in the same run."""
    from transformers import AutoTokenizer

    from chatbot.llm.loading import resolve_model_path
    from shopcore.settings import get_settings

    settings = get_settings().model_copy(update={"device": "cpu"})
    load_before = os.getloadavg()[0]
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(settings.model, settings.model_cache_dir))
    prompts = benchmark_prompts(settings, tokenizer)
    rows = [ours(settings, label, overrides, prompts) for label, overrides in CONFIGURATIONS]
    peer = llamacpp(settings, tokenizer, prompts)
    rows += [peer] if peer else []
    default = rows[0]
    metrics = {
        "ttft_p50_s": default["ttft_p50_s"],
        "decode_tokens_per_s": default["decode_tokens_per_s"],
        "ratio_vs_llamacpp": default["decode_tokens_per_s"] / peer["decode_tokens_per_s"] if peer else float("nan"),
        "ttft_ratio_vs_llamacpp": default["ttft_p50_s"] / peer["ttft_p50_s"] if peer else float("nan"),
        "shoppers_decode_tokens_per_s": default["shoppers_decode_tokens_per_s"],
        "shoppers_speedup": default["shoppers_decode_tokens_per_s"] / default["decode_tokens_per_s"],
        "shoppers_all_decoding_tokens_per_s": default["shoppers_all_decoding_tokens_per_s"],
        "shoppers_all_decoding_speedup": default["shoppers_all_decoding_tokens_per_s"] / default["decode_tokens_per_s"],
        "shoppers_wall_speedup": default["shoppers_wall_speedup"],
        "shoppers_ttft_p50_s": default["shoppers_ttft_p50_s"],
        "shoppers_answered": default["shoppers_answered"],
        "shoppers_lost": default["shoppers_lost"],
    }
    notes = [f"{len(prompts) - 1} prompts of ~{PROMPT_TOKENS} tokens, up to {NEW_TOKENS} new tokens, "
             f"greedy; {SHOPPERS} shoppers at once for the default configuration. "
             "`shoppers_speedup`: their aggregate decode tokens/s (from the first first token "
             "to the last end, so the later shoppers' prefills count as time) over one shopper's; "
             "`shoppers_all_decoding_speedup`: the same while all of them decode at once (from the "
             "last first token to the first end, no prefill inside); `shoppers_wall_speedup`: tokens per second "
             "of wall time, prefill included, all at once vs the same prompts one after another. "
             "Timings on a shared machine are provisional.",
             f"Load average (1 min) on this machine: {load_before:.1f} before, "
             f"{os.getloadavg()[0]:.1f} after (the benchmark's own threads included), on {_cores()} cores: "
             + ("other work was running when it started, so these timings are inflated and noisy."
                if load_before > _cores() / 2 else "the machine was quiet when it started."),
             "" if peer else "llama.cpp was not measured: run `python -m evals.llamacpp_env` first."]
    table = [{k: v for k, v in row.items() if not k.startswith("shoppers")} for row in rows]
    return SuiteResult("latency", metrics, table, notes, {"engines": plot(table)}, details=rows)


def plot(rows: list[dict]):
    """Decode tokens/s and time to first token per engine."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (speed, first) = plt.subplots(1, 2, figsize=(9, 3.4))
    labels = [row["engine"] for row in rows]
    speed.barh(labels, [row["decode_tokens_per_s"] for row in rows])
    speed.set_xlabel("decode tokens/s (one shopper)")
    first.barh(labels, [row["ttft_p50_s"] for row in rows])
    first.set_xlabel(f"time to first token, s ({PROMPT_TOKENS}-token prompt)")
    first.set_yticks([])
    figure.tight_layout()
    return figure
