"""Crashes and outages against the real server process (`python app.py`), on SQLite and on
PostgreSQL:

    python -m evals run --suite resilience

1. kill -9 with streaming turns in flight, then start again: every shopper message the
   first process stored ends with an answer, an error or a cancelled record (the start-up
   closes the interrupted ones); none is lost.
2. PostgreSQL only: the database cut off behind a TCP proxy while the server runs: every
   chat request is answered 503 with Retry-After within 2 s and /readyz fails; once the
   database is back, chats and /readyz succeed again; once refusing connections (a stopped
   server), once accepting them and never answering (a hung one).

The server runs the tiny random Llama (evals/tiny_model.py): what it writes does not matter
here, and long answers keep turns in flight when the process is killed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from evals.suite import SuiteResult
from evals.tcp_proxy import TcpProxy
from shopcore.settings import REPO_ROOT

TURNS_IN_FLIGHT = 20
OUTAGE_REQUESTS = 20
POSTGRES_URL = os.environ.get("CHATBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
QUESTIONS = ["Do you ship to Canada?", "Can I return worn boots?", "What does the warranty cover?",
             "How do I care for a down jacket?", "Do you price match?"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`python app.py` in its own process, configured by CHATBOT_* variables."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "ab")
        self.process = subprocess.Popen([sys.executable, "app.py"], cwd=REPO_ROOT, stdout=self._log,
                                        stderr=subprocess.STDOUT,
                                        env={**os.environ, **env, "CHATBOT_PORT": str(self.port)})

    def wait_ready(self, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}; see {self._log.name}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the server was not ready within {timeout_s:.0f} s; see {self._log.name}")

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def streaming_turn(url: str, question: str, started: threading.Event) -> str:
    """Stream one turn; set `started` once its first event shows the message was stored."""
    try:
        with httpx.stream("POST", f"{url}/v1/chat", json={"message": question},
                          headers={"Accept": "text/event-stream"}, timeout=120) as response:
            if response.status_code != 200:
                started.set()
                return f"HTTP {response.status_code}"
            for line in response.iter_lines():
                if line.startswith("event:"):
                    started.set()
        return "finished"
    except httpx.HTTPError:
        return "cut off"
    finally:
        started.set()


def message_records(url: str) -> dict[str, int]:
    """Shopper messages, and how many have an answer/error/cancelled record or none (lost)."""
    engine = create_engine(url)
    from shopcore.store.models import Message

    try:
        with engine.connect() as connection:
            users = connection.scalar(select(func.count()).select_from(Message).where(Message.role == "user"))
            closed = connection.scalar(select(func.count(func.distinct(Message.reply_to_id))).where(
                Message.role == "assistant", Message.state.in_(("ok", "error", "cancelled"))))
            interrupted = connection.scalar(select(func.count()).select_from(Message).where(
                Message.role == "assistant", Message.error.like("interrupted%")))
    finally:
        engine.dispose()
    return {"messages": users, "with_record": closed, "without_record": users - closed,
            "closed_as_interrupted": interrupted}


def kill_during_turns(env: dict[str, str], database_url: str, log: Path) -> dict:
    """kill -9 with TURNS_IN_FLIGHT streaming turns, restart, count the records."""
    first = Server(env, log)
    try:
        first.wait_ready()
        flags = [threading.Event() for _ in range(TURNS_IN_FLIGHT)]
        with ThreadPoolExecutor(TURNS_IN_FLIGHT) as pool:
            outcomes = [pool.submit(streaming_turn, first.url, QUESTIONS[n % len(QUESTIONS)], flags[n])
                        for n in range(TURNS_IN_FLIGHT)]
            for flag in flags:
                flag.wait(timeout=120)
            first.kill()
            outcomes = [o.result() for o in outcomes]
    finally:
        first.stop()
    before = message_records(database_url)
    second = Server(env, log)
    try:
        second.wait_ready()
        after = message_records(database_url)
    finally:
        second.stop()
    return {"in_flight_at_kill": outcomes.count("cut off"), "finished_before_kill": outcomes.count("finished"),
            "open_after_kill": before["without_record"], **{f"after_restart_{k}": v for k, v in after.items()}}


def outage(env: dict[str, str], database_url: str, log: Path, mode: str) -> dict:
    """Cut the database off behind a proxy while the server runs, then bring it back.
    `refused`: connections are reset (a stopped server); `silent`: bytes vanish and nothing
    answers (a dead host or a network partition), so only timeouts end the wait."""
    url = make_url(database_url)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        server = Server({**env, "CHATBOT_DATABASE_URL": proxied}, log)
        try:
            server.wait_ready()
            proxy.cut() if mode == "refused" else proxy.silence()

            def chat(n: int) -> tuple[int, float, bool]:
                started = time.monotonic()
                try:
                    response = httpx.post(f"{server.url}/v1/chat", json={"message": QUESTIONS[n % len(QUESTIONS)]},
                                          timeout=30)
                    return response.status_code, time.monotonic() - started, "retry-after" in response.headers
                except httpx.HTTPError:
                    return 0, time.monotonic() - started, False

            with ThreadPoolExecutor(OUTAGE_REQUESTS) as pool:
                during = list(pool.map(chat, range(OUTAGE_REQUESTS)))
            ready_during = httpx.get(f"{server.url}/readyz", timeout=10).status_code
            live_during = httpx.get(f"{server.url}/healthz", timeout=10).status_code
            proxy.restore()
            time.sleep(0.5)
            after = [chat(n) for n in range(5)]
            ready_after = httpx.get(f"{server.url}/readyz", timeout=10).status_code
        finally:
            server.stop()
    return {"outage": mode, "requests": len(during),
            "answered_503_with_retry_after": sum(1 for s, _, r in during if s == 503 and r),
            "slowest_s": round(max(t for _, t, _ in during), 2),
            "readyz": ready_during, "healthz": live_during,
            "chats_ok_after": sum(1 for s, _, _ in after if s == 200), "readyz_after": ready_after}


def _database(engine: str, home: Path) -> tuple[str, callable]:
    """A fresh, migrated database with the demo shop; its URL and how to drop it."""
    from shopcore.settings import load_settings
    from shopcore.store.db import make_engine, migrate, session_factory
    from knowledge.shop_data import load_shop

    if engine == "sqlite":
        url, drop = f"sqlite:///{home / 'desk.db'}", lambda: None
    else:
        name = f"chatbot_resilience_{os.getpid()}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

        def drop():
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    migrate(url)
    store = make_engine(url)
    load_shop(session_factory(store), load_settings().store_dir)
    store.dispose()
    return url, drop


def resilience_suite() -> SuiteResult:
    """kill -9 mid-turn and a database outage, on SQLite and PostgreSQL: records lost, 503s."""
    from chatbot.llm.loading import resolve_model_path
    from evals.tiny_model import build_tiny_llama
    from shopcore.settings import load_settings

    base = load_settings()
    rows, outages, metrics, notes = [], [], {}, []
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        tiny = build_tiny_llama(resolve_model_path("smollm2-135m", base.model_cache_dir), home / "tiny-llama")
        for engine in ("sqlite", "postgresql"):
            try:
                database_url, drop = _database(engine, home)
            except Exception as exc:  # no PostgreSQL here: say so, keep SQLite's rows
                notes.append(f"{engine}: not measured ({type(exc).__name__})")
                continue
            env = {"CHATBOT_HOME": str(home), "CHATBOT_DATABASE_URL": database_url, "CHATBOT_MODEL": str(tiny),
                   "CHATBOT_MODEL_CACHE_DIR": str(base.model_cache_dir), "CHATBOT_INDEX_DIR": str(base.index_dir),
                   "CHATBOT_SHIPPED_ADAPTERS": "", "CHATBOT_ADAPTER": "none", "CHATBOT_MAX_NEW_TOKENS": "1500",
                   "CHATBOT_DTYPE": "float32", "CHATBOT_QUANTIZE": "none"}
            log = home / f"server-{engine}.log"
            try:
                row = {"engine": engine, **kill_during_turns(env, database_url, log)}
                if engine == "postgresql":
                    outages += [{"engine": engine, **outage(env, database_url, log, mode)}
                                for mode in ("refused", "silent")]
            finally:
                drop()
            rows.append(row)
            metrics |= {f"{engine}_{key}": value for key, value in row.items() if key != "engine"}
    for row in outages:
        metrics |= {f"{row['engine']}_{row['outage']}_{key}": value for key, value in row.items()
                    if key not in ("engine", "outage")}
    metrics["turns_lost"] = sum(r["after_restart_without_record"] for r in rows)
    notes.append(f"{TURNS_IN_FLIGHT} streaming turns, then kill -9 once each had an event; the restarted "
                 "process closes what the first left open. `in_flight_at_kill`: streams cut by the kill; "
                 "`open_after_kill`: shopper messages with no answer record right after it.")
    if outages:
        header = list(outages[0])
        notes += ["", "## The database cut off while serving", "",
                  f"{OUTAGE_REQUESTS} chat requests at once with PostgreSQL behind a TCP proxy that refuses "
                  "connections (`refused`, a stopped server) or accepts them and never answers (`silent`, a hung "
                  "server), then brings it back. A silent database costs a pooled connection's ping deadline "
                  "(CHATBOT_DATABASE_TIMEOUT_S) and then libpq's connect_timeout (at least 2 s) before the 503.", "",
                  "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        notes += ["| " + " | ".join(str(row[key]) for key in header) + " |" for row in outages]
    return SuiteResult("resilience", metrics, rows=rows, notes=notes)


if __name__ == "__main__":
    print(json.dumps(resilience_suite().to_json(), indent=2))
