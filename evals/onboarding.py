"""Onboarding suite: how long from `init-shop` to a new shop answering its first question?

    python -m evals run --suite onboarding

Runs the commands a shop owner runs (docs/your-shop.md), each as its own process, in a
scratch CHATBOT_HOME with the starter shop: init-shop, check-shop, setup, setup again (what
a second `make run` costs), and `chatbot ask` with a question its starter documents answer.
Downloaded models are reused from the configured model cache (a first-ever install also
downloads them: `python -m chatbot models list` gives their sizes). The same question is
asked of the demo shop in the same run, as the peer for the answer's own time. Medians of
three runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from tqdm import tqdm

from evals.suite import SuiteResult
from shopcore.settings import REPO_ROOT, get_settings

QUESTION = "How long does delivery take?"
RUNS = 3


def _timed(args: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                         timeout=1800)
    if run.returncode != 0:
        raise RuntimeError(f"`{' '.join(args)}` failed:\n{run.stderr[-2000:]}")
    return time.perf_counter() - started, run.stdout


def _once(settings) -> tuple[dict[str, float], dict, str]:
    """Each step's seconds, the first answer and setup's output, for one fresh starter shop."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        env = {**os.environ, "CHATBOT_HOME": str(root / "home"), "CHATBOT_SHOP": str(root / "shop" / "shop.yaml"),
               "CHATBOT_MODEL": settings.model, "CHATBOT_MODEL_CACHE_DIR": str(settings.model_cache_dir)}
        steps = {}
        steps["init-shop"], _ = _timed(["chatbot", "init-shop", str(root / "shop"), "--name", "Paper Lantern Books"],
                                       env)
        steps["check-shop"], _ = _timed(["chatbot", "check-shop"], env)
        steps["setup"], setup_out = _timed(["chatbot", "setup"], env)
        steps["setup again"], _ = _timed(["chatbot", "setup"], env)
        steps["first answer (ask)"], answered = _timed(["chatbot", "ask", QUESTION, "--json"], env)
    steps["init-shop to first answer"] = sum(steps[s] for s in ("init-shop", "check-shop", "setup",
                                                                 "first answer (ask)"))
    return steps, json.loads(answered), setup_out


def onboarding_suite() -> SuiteResult:
    settings = get_settings()
    runs = [_once(settings) for _ in tqdm(range(RUNS), desc="onboarding runs", unit="run")]
    demo_env = {k: v for k, v in os.environ.items() if k != "CHATBOT_SHOP"}
    demo = [_timed(["chatbot", "ask", QUESTION, "--json"], demo_env) for _ in range(RUNS)]
    steps = {step: median(run[0][step] for run in runs) for step in runs[0][0]}
    demo_time = median(seconds for seconds, _ in demo)
    reply, setup_out = runs[0][1], runs[0][2]
    rows = [{"step": step, "median_s": round(seconds, 1),
             "runs_s": " ".join(f"{run[0][step]:.1f}" for run in runs)} for step, seconds in steps.items()]
    rows.append({"step": "peer: the demo shop's answer (ask)", "median_s": round(demo_time, 1),
                 "runs_s": " ".join(f"{seconds:.1f}" for seconds, _ in demo)})
    metrics = {"init_to_first_answer_s": steps["init-shop to first answer"], "setup_s": steps["setup"],
               "setup_again_s": steps["setup again"], "ask_s": steps["first answer (ask)"],
               "ask_ratio_vs_demo": steps["first answer (ask)"] / demo_time}
    notes = [f"Model `{settings.model}` (already pulled), embedder `{settings.embedding_model}`; medians of "
             f"{RUNS} runs, each from a fresh scratch folder, every step its own process (model and index loads "
             "included), on this machine.", "",
             f"The starter shop's answer to {QUESTION!r}: {reply['answer']!r} "
             f"(sources: {', '.join(s['title'] for s in reply['sources'][:3])})", "",
             f"The demo shop's answer: {json.loads(demo[0][1])['answer']!r}", "",
             "Setup's output for the new shop (first run):", "", "```", setup_out.strip(), "```"]
    return SuiteResult("onboarding", metrics, rows, notes)
