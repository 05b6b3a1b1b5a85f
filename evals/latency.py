"""Latency suite: time to first token and decode speed of the desk's model on this machine,
for ~400-token prompts, one shopper and eight at once, against llama.cpp on the same GGUF
file in the same run, on a quiet machine and beside a busy neighbour.

    python -m evals.llamacpp_env            # once: the llama.cpp peer's environment (pip)
    python -m evals run --suite latency

Each configuration runs in its own process (`python -m evals.latency measure`), so it gets
its own thread settings and OpenMP environment, and its peak resident memory is its own:
the process loads the model, answers one warm-up prompt, then the same real pipeline
prompts (dev questions with their evidence, cut to PROMPT_TOKENS by build_prompt) one at a
time; the default configuration then answers SHOPPERS of them at once through the batching
worker. llama.cpp (xllamacpp, its server's engine in-process) answers the same prompt text,
rendered by the same chat template. All numbers are medians over the prompts.

The busy-neighbour rows repeat the one-shopper measurement while another process keeps one
core busy (a shared machine, a second service, the indexer), for each thread setting: a
thread team that waits for a thread the scheduler has parked can collapse decode speed.
A peer or configuration that fails is reported as missing, with its error; the suite goes on.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from chatbot.errors import Busy
from evals.suite import SuiteResult, dev_questions

PROMPT_TOKENS = 400
PROMPTS = 8
NEW_TOKENS = 128
SHOPPERS = 8
BUSY_PROMPTS = 4  # prompts per busy-neighbour row (they are slow by design)
# (label, settings overrides, extra environment); the first is what the desk serves with.
CONFIGURATIONS = [
    ("default", {}, {}),
    ("float32", {"dtype": "float32", "quantize": "none"}, {}),
    ("bf16, float weights", {"dtype": "bfloat16", "quantize": "none"}, {}),
    ("int8 dynamic", {"dtype": "float32", "quantize": "int8"}, {}),
]
# Thread settings measured on a quiet machine and beside a busy neighbour.
THREAD_SETTINGS = [
    ("threads=all, spin 10k (default)", {"threads": 0}, {}),
    ("threads=all, libgomp's spin 300k", {"threads": 0}, {"GOMP_SPINCOUNT": "300000"}),
    ("threads=all, OpenMP passive", {"threads": 0}, {"OMP_WAIT_POLICY": "PASSIVE"}),
    ("threads=1", {"threads": 1}, {}),
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


def measure(job: dict) -> dict:
    """In this process: load the model as `job["overrides"]` say and time the prompts."""
    from chatbot.llm.generation import HFGenerator
    from chatbot.llm.loading import load_model
    from shopcore.settings import get_settings

    settings = get_settings().model_copy(update={"device": "cpu", **job["overrides"]})
    generator = HFGenerator(load_model(settings), max_batch=SHOPPERS, max_queue=SHOPPERS)
    prompts = job["prompts"]
    try:
        timed(generator, prompts[0])  # warm-up: first-call allocations, lazy init
        single = [timed(generator, m) for m in prompts[1:]]
        result = {"single": single}
        if job.get("shoppers"):
            together, busy, lost = concurrent(generator, prompts[1:])
            result |= {"together": together, "busy": busy, "lost": lost}
    finally:
        generator.close()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def in_subprocess(label: str, command: list[str], job: dict, env: dict) -> dict:
    """Run one measurement in its own process; {"error": ...} if it fails."""
    # Our one-thread OpenMP default (shopcore/__init__.py) is for the service; each
    # measurement sets its own environment.
    base = {k: v for k, v in os.environ.items()
            if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    try:
        done = subprocess.run(command, input=json.dumps(job), capture_output=True, text=True,
                              env={**base, **env}, timeout=1800)
    except subprocess.TimeoutExpired:
        return {"error": f"{label}: no result within 30 minutes"}
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return {"error": f"{label}: exit status {done.returncode} ({tail[0][:200]})"}
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": f"{label}: printed no result"}


def ours(label: str, overrides: dict, env: dict, prompts, *, shoppers: bool = False) -> dict:
    job = {"overrides": overrides, "prompts": prompts, "shoppers": shoppers}
    result = in_subprocess(label, [sys.executable, "-m", "evals.latency", "measure"], job, env)
    if "error" in result:
        return {"engine": label, "error": result["error"]}
    row = summarize(label, result["single"]) | {"peak_rss_mb": round(result["peak_rss_mb"])}
    if shoppers:
        row |= crowd(result)
    return row


def crowd(result: dict) -> dict:
    """The eight-shoppers numbers of a measurement (see the report's notes)."""
    single, together = result["single"], result["together"]
    if not together:
        return {"shoppers_answered": 0, "shoppers_busy": result["busy"], "shoppers_lost": result["lost"]}
    decoding = max(r["ended"] for r in together) - min(r["started"] + r["ttft_s"] for r in together)
    wall_single = sum(r["ended"] - r["started"] for r in single)
    wall_together = max(r["ended"] for r in together) - min(r["started"] for r in together)
    return {"shoppers_decode_tokens_per_s": sum(r["tokens"] - 1 for r in together) / decoding,
            "shoppers_all_decoding_tokens_per_s": all_decoding(together),
            "shoppers_wall_speedup": (sum(r["tokens"] for r in together) / wall_together)
            / (sum(r["tokens"] for r in single) / wall_single),
            "shoppers_answered": len(together), "shoppers_busy": result["busy"], "shoppers_lost": result["lost"],
            "shoppers_ttft_p50_s": statistics.median(r["ttft_s"] for r in together)}


def summarize(label: str, results: list[dict]) -> dict:
    return {
        "engine": label,
        "prompt_tokens": statistics.median(r["prompt_tokens"] for r in results),
        "ttft_p50_s": statistics.median(r["ttft_s"] for r in results),
        "decode_tokens_per_s": statistics.median(
            (r["tokens"] - 1) / r["decode_s"] for r in results if r["tokens"] > 1 and r["decode_s"]),
        "tokens_p50": statistics.median(r["tokens"] for r in results),
    }


def llamacpp(settings, texts: list[str], label: str, threads: int) -> dict | None:
    """llama.cpp on the same GGUF and prompt text, in its own environment; None without
    it, a row with `error` if it fails."""
    from evals.llamacpp_env import python_path
    from shopcore import catalog

    model = catalog.find(settings.model)
    gguf = catalog.joined_file(model, settings.model_cache_dir) if model is not None else None
    python = python_path()
    if python is None or gguf is None or not gguf.exists():
        return None
    job = {"gguf": str(gguf), "prompts": texts, "max_tokens": NEW_TOKENS, "threads": threads}
    result = in_subprocess(label, [str(python), str(Path(__file__).with_name("llamacpp_bench.py"))], job, {})
    if "error" in result:
        return {"engine": label, "error": result["error"]}
    row = summarize(label, result["results"][1:])  # the first warmed it up
    return row | {"peak_rss_mb": round(result["peak_rss_mb"])}


@contextmanager
def busy_neighbour():
    """Another process keeping one core busy for as long as the block runs, or until this
    process dies (it spins while its parent is this one, so a killed suite leaves no spinner)."""
    spinner = subprocess.Popen([sys.executable, "-c", f"import os\nwhile os.getppid() == {os.getpid()}: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        spinner.kill()
        spinner.wait()


def _cores() -> int:
    return os.cpu_count() or 1


def latency_suite() -> SuiteResult:
    """TTFT and decode tokens/s, 1 and 8 shoppers, quiet and busy, against llama.cpp in one run."""
    from transformers import AutoTokenizer

    from chatbot.llm.loading import resolve_model_path
    from shopcore.settings import get_settings

    settings = get_settings().model_copy(update={"device": "cpu"})
    load_before = os.getloadavg()[0]
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(settings.model, settings.model_cache_dir))
    prompts = benchmark_prompts(settings, tokenizer)
    texts = [tokenizer.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m in prompts]
    cores = settings.threads or _cores()

    rows = [ours(label, overrides, env, prompts, shoppers=label == "default")
            for label, overrides, env in CONFIGURATIONS]
    rows += [ours(label, overrides, env, prompts) for label, overrides, env in THREAD_SETTINGS]
    peers = [llamacpp(settings, texts, f"llama.cpp, {n} thread{'s' * (n > 1)}", n) for n in sorted({cores, 1})]
    rows += [p for p in peers if p]
    busy = []
    with busy_neighbour():
        few = prompts[: BUSY_PROMPTS + 1]
        busy += [ours(f"busy: {label}", overrides, env, few) for label, overrides, env in THREAD_SETTINGS]
        busy += [p for p in (llamacpp(settings, texts[: BUSY_PROMPTS + 1], f"busy: llama.cpp, {n} thread"
                                      f"{'s' * (n > 1)}", n) for n in sorted({cores, 1})) if p]

    default = rows[0]
    peer = next((p for p in peers if p and "error" not in p and p["engine"].startswith(f"llama.cpp, {cores} ")), None)
    ok = "error" not in default
    metrics = {
        "ttft_p50_s": default.get("ttft_p50_s", float("nan")),
        "decode_tokens_per_s": default.get("decode_tokens_per_s", float("nan")),
        "peak_rss_mb": default.get("peak_rss_mb", float("nan")),
        "ratio_vs_llamacpp": default["decode_tokens_per_s"] / peer["decode_tokens_per_s"] if ok and peer else float("nan"),
        "ttft_ratio_vs_llamacpp": default["ttft_p50_s"] / peer["ttft_p50_s"] if ok and peer else float("nan"),
        "llamacpp_decode_tokens_per_s": peer["decode_tokens_per_s"] if peer else float("nan"),
        "llamacpp_ttft_p50_s": peer["ttft_p50_s"] if peer else float("nan"),
        "llamacpp_peak_rss_mb": peer["peak_rss_mb"] if peer else float("nan"),
    }
    if ok and "shoppers_decode_tokens_per_s" in default:
        metrics |= {
            "shoppers_decode_tokens_per_s": default["shoppers_decode_tokens_per_s"],
            "shoppers_speedup": default["shoppers_decode_tokens_per_s"] / default["decode_tokens_per_s"],
            "shoppers_all_decoding_tokens_per_s": default["shoppers_all_decoding_tokens_per_s"],
            "shoppers_wall_speedup": default["shoppers_wall_speedup"],
            "shoppers_ttft_p50_s": default["shoppers_ttft_p50_s"],
            "shoppers_answered": default["shoppers_answered"],
            "shoppers_lost": default["shoppers_lost"],
        }
    for row in busy:
        if "error" not in row:
            key = row["engine"].removeprefix("busy: ").replace(", ", "_").replace(" ", "_").replace("=", "")
            metrics[f"busy_{key}_decode_tokens_per_s"] = row["decode_tokens_per_s"]

    missing = [row["error"] for row in rows + busy if "error" in row]
    notes = [f"Model `{settings.model}` on {_cores()} cores. {len(prompts) - 1} prompts of ~{PROMPT_TOKENS} tokens "
             f"({BUSY_PROMPTS} beside the busy neighbour), up to {NEW_TOKENS} new tokens, greedy; {SHOPPERS} shoppers "
             "at once for the default configuration. Each row is its own process; `peak_rss_mb` is that "
             "process's peak resident memory (model, tokenizer, KV caches; the desk's embedder and index "
             "add about 300 MB when served). "
             "`shoppers_speedup`: their aggregate decode tokens/s (from the first first token "
             "to the last end, so the later shoppers' prefills count as time) over one shopper's; "
             "`shoppers_all_decoding_speedup`: the same while all of them decode at once; "
             "`shoppers_wall_speedup`: tokens per second of wall time, prefill included, all at once vs "
             "one after another.",
             f"Load average (1 min) on this machine: {load_before:.1f} before, "
             f"{os.getloadavg()[0]:.1f} after (the benchmark's own threads included), on {_cores()} cores: "
             + ("other work was running when it started, so these timings are inflated and noisy."
                if load_before > _cores() / 2 else "the machine was quiet when it started."),
             "", "## Beside a busy neighbour (another process keeping one core busy)", "",
             _table(busy), ""]
    if not any(p for p in peers):
        notes.append("llama.cpp was not measured: run `python -m evals.llamacpp_env` first.")
    notes += [f"Missing: {m}" for m in missing]
    table = [{k: v for k, v in row.items() if not k.startswith("shoppers")} for row in rows]
    return SuiteResult("latency", metrics, [r for r in table if "error" not in r], notes,
                       {"engines": plot([r for r in table + busy if "error" not in r])}, details=rows + busy)


def _table(rows: list[dict]) -> str:
    from evals.report import table

    return table([{k: v for k, v in r.items() if k in ("engine", "ttft_p50_s", "decode_tokens_per_s", "error")}
                  for r in rows])


def plot(rows: list[dict]):
    """Decode tokens/s and time to first token per engine."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (speed, first) = plt.subplots(1, 2, figsize=(10, 0.4 * len(rows) + 1.5))
    labels = [row["engine"] for row in rows]
    speed.barh(labels, [row["decode_tokens_per_s"] for row in rows])
    speed.set_xlabel("decode tokens/s (one shopper)")
    speed.invert_yaxis()
    first.barh(labels, [row["ttft_p50_s"] for row in rows])
    first.set_xlabel(f"time to first token, s ({PROMPT_TOKENS}-token prompt)")
    first.set_yticks([])
    first.invert_yaxis()
    figure.tight_layout()
    return figure


def main() -> None:
    """`python -m evals.latency measure`: one configuration's measurement, job on stdin."""
    if sys.argv[1:] != ["measure"]:
        raise SystemExit("usage: python -m evals.latency measure < job.json (the latency suite runs it)")
    json.dump(measure(json.load(sys.stdin)), sys.stdout)
    print()


if __name__ == "__main__":
    main()
