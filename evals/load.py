"""Load test: concurrent shoppers, each a multi-turn SSE chat, against a live desk on
loopback; then bursts past the rate limits. Every shopper has its own loopback address
(127.0.x.y), as real shoppers have their own, and all share one widget key.

    python -m evals run --suite load      # 50 shoppers x 5 turns on the tiny model
    python -m evals.load [--shoppers 50] [--turns 5] [--model tiny|configured] [--max-new-tokens 24]
    python -m evals.load --stack [--workers 2] [--model smollm2-135m]   # the multi-process rig

`--stack` runs the same chats against the rig of evals/stack.py (API workers on PostgreSQL
and Redis, llama.cpp's server generating): first every shopper through one worker (the
single-process figures), then the same load spread over all workers, each turn of a chat
sent to the next worker as a round-robin proxy would; the report is reports/load_stack.md.

`tiny` (a random two-layer Llama, see evals/tiny_model.py) measures the serving path: HTTP,
SSE, retrieval, prompt building, storage and limits, without the LM's cost; `configured`
runs the real model (SmolLM2 by default), where a CPU turns the model into the queue.

Checks: zero lost messages (every shopper message stored with an answer or an explicit
error record), no 429 below the configured limits and 429s exactly past them. Reports TTFT
and turn time (p50, p95) under load against one shopper alone, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select
from tqdm import tqdm

from evals.live_server import serving
from evals.suite import SuiteResult, dev_questions

KEY = "pk_load"
KEY_HEADROOM = 50  # key budget left after the chats (and their retries), spent by the key burst
BURST_EXTRA = 10  # requests sent past each limit
BUSY_RETRIES = 3  # a 503 is asked again after its Retry-After, as the widget does


@dataclass
class Turn:
    shopper: int
    turn: int
    status: int
    ttft_s: float | None = None
    total_s: float = 0.0
    done: bool = False
    error: str | None = None
    started_at: float = 0.0
    busy: int = 0  # 503s before this turn was taken (asked again after Retry-After)
    busy_well_formed: int = 0  # of those, with Retry-After and a JSON body: refused before streaming
    worker: int = 0  # which of the bases served it


def address(block: int, n: int) -> str:
    """The n-th loopback address of a block: Linux answers all of 127.0.0.0/8 on `lo`."""
    return f"127.{block}.{n // 250}.{1 + n % 250}"


async def shopper(base: str | list[str], who: int, block: int, questions: list[str], clock: float) -> list[Turn]:
    """One shopper's chat: each turn streamed as SSE, continuing the same conversation; with
    several bases (API workers), turn n goes to the next one, as a round-robin proxy sends it."""
    bases = [base] if isinstance(base, str) else base
    transport = httpx.AsyncHTTPTransport(local_address=address(block, who))
    turns, conversation_id = [], None
    async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(600)) as client:
        for n, question in enumerate(questions):
            started = time.perf_counter()
            worker = (who + n) % len(bases)
            base = bases[worker]
            turn = Turn(who, n, 0, started_at=started - clock, worker=worker)
            try:
                for attempt in range(1 + BUSY_RETRIES):
                    async with client.stream("POST", f"{base}/v1/chat", headers={
                            "Accept": "text/event-stream", "X-Widget-Key": KEY},
                            json={"message": question, "conversation_id": conversation_id}) as response:
                        turn.status = response.status_code
                        if response.status_code == 200:
                            conversation_id = await read_stream(response, turn, started) or conversation_id
                            break
                        body = (await response.aread()).decode()
                        turn.error = body[:200]
                        if response.status_code != 503 or attempt == BUSY_RETRIES:
                            break
                        turn.busy += 1
                        turn.busy_well_formed += ("retry-after" in response.headers and
                                                  response.headers["content-type"].startswith("application/json"))
                        await asyncio.sleep(float(response.headers.get("retry-after", 2)))
            except httpx.HTTPError as exc:
                turn.error = f"{type(exc).__name__}: {exc}"
            turn.total_s = time.perf_counter() - started
            turns.append(turn)
    return turns


async def read_stream(response: httpx.Response, turn: Turn, started: float) -> str | None:
    """Follow one SSE answer; return the conversation id from its done event."""
    import json

    event, conversation_id = None, None
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
            if event == "token" and turn.ttft_s is None:
                turn.ttft_s = time.perf_counter() - started
        elif line.startswith("data:") and event == "done":
            conversation_id = json.loads(line[5:])["conversation_id"]
            turn.done = True
        elif line.startswith("data:") and event == "error":
            turn.error = line[5:].strip()
    return conversation_id


async def chats(base: str | list[str], shoppers: int, turns: int, block: int, progress=None,
                offset: int = 0) -> list[Turn]:
    """`shoppers` concurrent chats of `turns` turns each, dev-set questions in rotation
    (from `offset` on, so that a second run in the same process asks other questions)."""
    pool = [q["question"] for q in dev_questions()]
    clock = time.perf_counter()

    async def one(who: int) -> list[Turn]:
        questions = [pool[(offset + who * turns + t) % len(pool)] for t in range(turns)]
        result = await shopper(base, who, block, questions, clock)
        if progress is not None:
            progress.update(len(result))
        return result

    results = await asyncio.gather(*(one(who) for who in range(shoppers)))
    return [turn for result in results for turn in result]


async def burst(base: str | list[str], count: int, key: str | None, block: int, one_address: bool) -> list[int]:
    """`count` cheap requests (an empty message, refused with 422 after the limiter counts
    it), sent one after another (to each base in turn); their statuses in order."""
    bases = [base] if isinstance(base, str) else base
    statuses = []
    for n in range(count):
        base = bases[n % len(bases)]
        transport = httpx.AsyncHTTPTransport(local_address=address(block, 0 if one_address else n))
        async with httpx.AsyncClient(transport=transport) as client:
            headers = {"X-Widget-Key": key} if key else {}
            response = await client.post(f"{base}/v1/chat", json={"message": ""}, headers=headers)
            statuses.append(response.status_code)
    return statuses


def build_desk(home: Path, model: str, max_new_tokens: int, per_address: int, per_key: int):
    """A desk over a scratch copy of the demo shop, with the load test's limits (a context
    manager: the desk's worker threads stop at its end)."""
    from chatbot.llm.loading import resolve_model_path
    from shopcore.settings import load_settings
    from evals.scratch_desk import scratch_desk
    from evals.tiny_model import build_tiny_llama

    overrides = {"max_new_tokens": max_new_tokens, "widget_keys": {KEY: ["http://loadtest.invalid"]},
                 "rate_limit_per_address": f"{per_address}/hour", "rate_limit_per_key": f"{per_key}/hour"}
    if model == "tiny":
        base = load_settings()
        overrides["model"] = str(build_tiny_llama(resolve_model_path(base.model, base.model_cache_dir),
                                                  home / "tiny-llama"))
    return scratch_desk(home, **overrides)


def lost_messages(sessions) -> tuple[int, int, int, int]:
    """(shopper messages stored, answered or with an error record, waiting for a person in a
    conversation handed over to one, lost: none of these)."""
    from shopcore.store.models import Conversation, Message

    with sessions() as session:
        users = session.execute(select(Message.id, Conversation.state).join(
            Conversation, Conversation.id == Message.conversation_id).where(Message.role == "user")).all()
        replies = set(session.scalars(select(Message.reply_to_id).where(
            Message.role == "assistant", Message.state.in_(("ok", "error")))).all())
    answered = sum(1 for m, _ in users if m in replies)
    with_person = sum(1 for m, state in users if m not in replies and state == "agent")
    return len(users), answered, with_person, len(users) - answered - with_person


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def load_suite(shoppers: int = 50, turns: int = 5, model: str = "tiny",
               max_new_tokens: int = 24) -> SuiteResult:
    """50 concurrent SSE chats x 5 turns: lost messages, 429s vs limits, TTFT p50/p95."""
    per_address = turns * (1 + BUSY_RETRIES)
    per_key = (1 + shoppers) * turns * (1 + BUSY_RETRIES) + KEY_HEADROOM
    with tempfile.TemporaryDirectory() as scratch:
        from chatbot.api import create_app

        with build_desk(Path(scratch), model, max_new_tokens, per_address, per_key) as desk, \
                serving(create_app(desk=desk)) as base:
            alone = asyncio.run(chats(base, 1, turns, block=9))
            with tqdm(total=shoppers * turns, desc=f"{shoppers} shoppers", unit="turn") as progress:
                started = time.perf_counter()
                loaded = asyncio.run(chats(base, shoppers, turns, block=1, progress=progress))
                wall = time.perf_counter() - started
            address_burst = asyncio.run(burst(base, per_address + BURST_EXTRA, None, 20, one_address=True))
            key_left = per_key - sum(1 + t.busy for t in alone + loaded)
            key_burst = asyncio.run(burst(base, key_left + BURST_EXTRA, KEY, 30, one_address=False))
        storage = lost_messages(desk.sessions)
    return summarize(alone, loaded, wall, address_burst, key_burst, storage,
                     dict(shoppers=shoppers, turns=turns, model=model, max_new_tokens=max_new_tokens,
                          per_address=per_address, per_key=per_key, key_left=key_left))


def stack_suite(shoppers: int = 50, turns: int = 5, model: str = "smollm2-135m", max_new_tokens: int = 24,
                workers: int = 2) -> SuiteResult:
    """The chats through one API worker, then through all of them, of the multi-process rig
    (evals/stack.py), in one run: lost messages, 5xx, 429s vs limits (counted in Redis by
    all workers together), TTFT p50/p95 and turns per minute; and an agent on the first
    worker seeing, live, a shopper message sent through the second."""
    import json

    from evals import stack
    from shopcore.store.db import make_engine, session_factory

    per_address = turns * (1 + BUSY_RETRIES)
    per_key = (1 + 2 * shoppers) * turns * (1 + BUSY_RETRIES) + KEY_HEADROOM
    env = {"CHATBOT_MAX_NEW_TOKENS": str(max_new_tokens),
           "CHATBOT_WIDGET_KEYS": json.dumps({KEY: ["http://loadtest.invalid"]}),
           "CHATBOT_RATE_LIMIT_PER_ADDRESS": f"{per_address}/hour", "CHATBOT_RATE_LIMIT_PER_KEY": f"{per_key}/hour"}
    with stack.running(workers=workers, model=model, env=env, lifetime=3 * 3600) as rig:
        live_delay = stack.agent_sees_message(rig.workers[0], rig.workers[-1], rig.database_url)
        alone = asyncio.run(chats(rig.workers[0], 1, turns, block=9))
        runs = {}
        # Each run asks other questions in other chats: llama.cpp's prompt cache gains neither.
        for label, bases, block in (("single", rig.workers[:1], 1), ("multi", rig.workers, 2)):
            with tqdm(total=shoppers * turns, desc=f"{shoppers} shoppers, {len(bases)} worker(s)",
                      unit="turn") as progress:
                started = time.perf_counter()
                done = asyncio.run(chats(bases, shoppers, turns, block=block, progress=progress,
                                         offset=(block - 1) * shoppers * turns))
                runs[label] = (done, time.perf_counter() - started)
        address_burst = asyncio.run(burst(rig.workers, per_address + BURST_EXTRA, None, 20, one_address=True))
        key_left = per_key - sum(1 + t.busy for t in alone + runs["single"][0] + runs["multi"][0])
        key_burst = asyncio.run(burst(rig.workers, key_left + BURST_EXTRA, KEY, 30, one_address=False))
        engine = make_engine(rig.database_url)
        storage = lost_messages(session_factory(engine))
        engine.dispose()
    loaded, wall = runs["multi"]
    single, single_wall = runs["single"]
    config = dict(shoppers=shoppers, turns=turns, model=f"{model} on llama.cpp's server ({workers} API workers)",
                  max_new_tokens=max_new_tokens, per_address=per_address, per_key=per_key, key_left=key_left,
                  chat_requests=(1 + 2 * shoppers) * turns)
    result = summarize(alone, loaded, wall, address_burst, key_burst, storage, config)
    result.suite = "load_stack"
    result.metrics["shopper_messages"] += len(single)
    single_ttft = [t.ttft_s for t in single if t.ttft_s is not None]
    result.metrics.update({
        "http_5xx": float(sum(t.busy + (t.status >= 500 and t.status != 503) for t in alone + single + loaded)),
        "turns_per_minute": len(loaded) / wall * 60,
        "single_worker_ttft_p50_s": quantile(single_ttft, 0.5),
        "single_worker_ttft_p95_s": quantile(single_ttft, 0.95),
        "single_worker_turns_per_minute": len(single) / single_wall * 60,
        "single_worker_failed_turns": float(sum(not t.done for t in single)),
        "live_event_across_workers_s": live_delay,
    })
    result.rows = [scenario("1 shopper alone, worker 1", alone),
                   scenario(f"{shoppers} shoppers, 1 worker", single) | {"turns_per_minute": len(single) / single_wall * 60},
                   scenario(f"{shoppers} shoppers, {workers} workers", loaded) | {"turns_per_minute": len(loaded) / wall * 60}]
    served = [sum(t.worker == w for t in loaded) for w in range(workers)]
    result.notes[:0] = [
        "## The rig", "",
        f"- `python -m evals.stack`: {workers} API workers (uvicorn processes, each a whole desk), PostgreSQL "
        f"(`{rig.database_url.rsplit('/', 1)[1]}`), Redis (rate limits), llama.cpp's server ({model} GGUF, 4 slots) "
        f"generating for all; clients, workers and llama.cpp on the same machine.",
        f"- single-process figures: the same {shoppers} shoppers through worker 1 alone, in the same run, "
        f"before the spread run; the spread run sent each turn of a chat to the next worker "
        f"(turns per worker: {served}).",
        f"- an agent logged in on worker 1 saw a shopper message sent through worker {workers} on its live "
        f"feed after {live_delay:.2f} s (no reload; the feed reads the database by id cursor).", "",
    ]
    return result


def summarize(alone, loaded, wall, address_burst, key_burst, storage, config) -> SuiteResult:
    """Metrics, the table, notes on the limits and the plots of one load run."""
    stored, answered, with_person, lost = storage
    per_address, per_key = config["per_address"], config["per_key"]
    expected_address = [False] * per_address + [True] * BURST_EXTRA
    expected_key = [False] * config["key_left"] + [True] * BURST_EXTRA
    unexpected_429 = sum(t.status == 429 for t in alone + loaded)
    rows = [scenario("1 shopper alone", alone), scenario(f"{config['shoppers']} shoppers at once", loaded)]
    load_ttft = [t.ttft_s for t in loaded if t.ttft_s is not None]
    alone_ttft = [t.ttft_s for t in alone if t.ttft_s is not None]
    metrics = {
        "shopper_messages": float(len(loaded) + len(alone)),
        "stored_messages": float(stored),
        "lost_messages": float(lost),
        "handed_to_a_person": float(with_person),
        "failed_turns": float(sum(not t.done for t in loaded + alone)),
        "unexpected_429": float(unexpected_429),
        "busy_refusals": float(sum(t.busy for t in loaded + alone)),
        "busy_refusals_before_streaming_with_retry_after": float(sum(t.busy_well_formed for t in loaded + alone)),
        "address_limit_exact": float([s == 429 for s in address_burst] == expected_address),
        "key_limit_exact": float([s == 429 for s in key_burst] == expected_key),
        "ttft_p50_s": quantile(load_ttft, 0.5),
        "ttft_p95_s": quantile(load_ttft, 0.95),
        "turn_p95_s": quantile([t.total_s for t in loaded], 0.95),
        "alone_ttft_p50_s": quantile(alone_ttft, 0.5),
        "ttft_p50_ratio_vs_alone": quantile(load_ttft, 0.5) / max(quantile(alone_ttft, 0.5), 1e-9),
        "turns_per_s": len(loaded) / wall,
    }
    notes = [
        "## Setup", "",
        f"- model: {config['model']}, at most {config['max_new_tokens']} new tokens per answer; "
        f"{config['shoppers']} shoppers x {config['turns']} turns, each shopper on its own loopback "
        f"address, all on one widget key; one machine, server and clients together.",
        f"- limits: {per_address} chat requests per address per hour, {per_key} per key per hour "
        f"(the chats use {config.get('chat_requests', (1 + config['shoppers']) * config['turns'])} of the key's, "
        "and their retries more).", "",
        "## Rate limits", "",
        f"- one address sent {len(address_burst)} requests: first 429 at request "
        f"{first_429(address_burst)} (limit {per_address}); statuses {collapse(address_burst)}",
        f"- the key, from {len(key_burst)} fresh addresses: first 429 at request {first_429(key_burst)} "
        f"({config['key_left']} left of {per_key}); statuses {collapse(key_burst)}",
        f"- 429s during the chats (all below the limits): {unexpected_429}", "",
        "## Messages", "",
        f"- {stored} shopper messages stored: {answered} with an answer or an error record, "
        f"{with_person} waiting for a person (the offer policy handed their conversation over), "
        f"{lost} lost",
        f"- turns that did not end with a `done` event: {metrics['failed_turns']:.0f}",
        f"- 503s while every answer slot was taken (CHATBOT_MAX_BATCH + CHATBOT_MAX_QUEUE turns in flight): "
        f"{metrics['busy_refusals']:.0f}, of them {metrics['busy_refusals_before_streaming_with_retry_after']:.0f} "
        f"with Retry-After before any streaming; each was asked again after it, as the widget does "
        f"(up to {BUSY_RETRIES} times)",
        "", "Timings are wall-clock on the machine that ran it; compare the ratio, not the seconds.",
    ]
    return SuiteResult("load", metrics, rows, notes, plots=plots(alone, loaded),
                       details=[t.__dict__ for t in loaded])


def scenario(name: str, turns: list[Turn]) -> dict:
    ttft = [t.ttft_s for t in turns if t.ttft_s is not None]
    total = [t.total_s for t in turns]
    return {"scenario": name, "turns": len(turns), "ok": sum(t.done for t in turns),
            "ttft_p50_s": quantile(ttft, 0.5), "ttft_p95_s": quantile(ttft, 0.95),
            "turn_p50_s": quantile(total, 0.5), "turn_p95_s": quantile(total, 0.95)}


def first_429(statuses: list[int]) -> int | None:
    return next((n for n, s in enumerate(statuses, 1) if s == 429), None)


def collapse(statuses: list[int]) -> str:
    """[422, 422, 429] -> '422 x2, 429 x1'."""
    runs: list[list[int]] = []
    for s in statuses:
        if runs and runs[-1][0] == s:
            runs[-1][1] += 1
        else:
            runs.append([s, 1])
    return ", ".join(f"{s} x{n}" for s, n in runs)


def plots(alone: list[Turn], loaded: list[Turn]) -> dict:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.6))
    left, right = fig.subplots(1, 2)
    data = [[t.ttft_s for t in group if t.ttft_s is not None] or [0.0] for group in (alone, loaded)]
    left.boxplot(data, tick_labels=["alone", f"{len({t.shopper for t in loaded})} at once"])
    left.set_ylabel("time to first token (s)")
    left.set_title("TTFT")
    right.scatter([t.started_at for t in loaded], [t.ttft_s or 0 for t in loaded], s=8)
    right.set_xlabel("turn started (s into the run)")
    right.set_ylabel("time to first token (s)")
    right.set_title("TTFT over the run")
    fig.tight_layout()
    return {"ttft": fig}


def main(argv: list[str] | None = None) -> int:
    from evals.report import table, write_report

    parser = argparse.ArgumentParser(prog="python -m evals.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--model", default=None,
                        help="tiny | configured; with --stack a catalog model with a GGUF (default smollm2-135m)")
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--stack", action="store_true", help="against the multi-process rig (evals/stack.py)")
    parser.add_argument("--workers", type=int, default=2, help="API workers of the rig")
    args = parser.parse_args(argv)
    if not 1 <= args.shoppers <= 2000 or not 1 <= args.turns <= 50:
        parser.error("keep it bounded: 1-2000 shoppers, 1-50 turns")
    if args.stack:
        result = stack_suite(args.shoppers, args.turns, args.model or "smollm2-135m", args.max_new_tokens,
                             args.workers)
    else:
        if args.model not in (None, "tiny", "configured"):
            parser.error("--model is tiny or configured without --stack")
        result = load_suite(args.shoppers, args.turns, args.model or "tiny", args.max_new_tokens)
    print(table(result.rows))
    print(table([{"metric": k, "value": v} for k, v in result.metrics.items()]))
    print(f"report: {write_report(result)}")
    ok = result.metrics["lost_messages"] == 0 and result.metrics["unexpected_429"] == 0
    return 0 if ok and result.metrics.get("http_5xx", 0) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
