"""A local multi-process rig: N API workers (uvicorn processes, each its own desk) on the local
PostgreSQL and Redis, generating on llama.cpp's OpenAI-compatible server, as a shop runs it
once one process is not enough (docs/deploy.md). For the load suite and the tests.

    python -m evals.stack up [--workers 2] [--model smollm2-135m] [--lifetime 3600]
    python -m evals.stack status
    python -m evals.stack down

Bounded: every process runs in its own session under `timeout` (llama.cpp under its own
--lifetime), so the rig stops itself after --lifetime seconds even if `down` never runs; pid
files, logs and stack.json (URLs, database) live in CHATBOT_HOME/stack. `up` refuses while
a rig is running. The rig owns what it uses: a PostgreSQL database `chatbot_stack` (created
from the demo shop on `up`, dropped on `down`) and Redis database 13 (flushed on `up`).
The workers share the shop's index folder read-only; the index watch in each one serves a
rebuild made by any of them.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

POSTGRES_ADMIN_URL = os.environ.get("CHATBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = "redis://127.0.0.1:6379/13"
DATABASE = "chatbot_stack"
FIRST_PORT = 8701  # workers 8701, 8702, ...; llama.cpp on 8790
LLAMACPP_PORT = 8790
READY_TIMEOUT_S = 300


@dataclass
class Stack:
    workers: list[str]  # each worker's base URL
    llamacpp: str  # llama.cpp's base URL (its API under /v1)
    database_url: str
    redis_url: str
    model: str
    started: float
    lifetime: float
    folder: str
    pids: dict[str, int] = field(default_factory=dict)  # process name -> pid (its session's id too)


def state_dir() -> Path:
    from shopcore.settings import get_settings

    return get_settings().home / "stack"


def read(folder: Path | None = None) -> Stack | None:
    """The rig described in folder's stack.json, if one was started there and any of it runs."""
    path = (folder or state_dir()) / "stack.json"
    try:
        stack = Stack(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return stack if any(_alive(pid) for pid in stack.pids.values()) else None


def up(*, workers: int = 2, model: str | None = None, lifetime: float = 3600, env: dict[str, str] | None = None,
       parallel: int = 4, threads: int | None = None, folder: Path | None = None,
       first_port: int = FIRST_PORT, llamacpp_port: int = LLAMACPP_PORT, database: str = DATABASE,
       redis_url: str = REDIS_URL, worker_ports: list[int] | None = None) -> Stack:
    """Start the rig and wait until every worker is ready; a failed start stops what started."""
    from evals.llamacpp_env import python_path, server_command, wait_until_up
    from shopcore import catalog
    from shopcore.settings import load_settings

    folder = folder or state_dir()
    if read(folder) is not None:
        raise RuntimeError(f"a rig is already running (see {folder / 'stack.json'}); `python -m evals.stack down`")
    folder.mkdir(parents=True, exist_ok=True)
    settings = load_settings(**({"model": model} if model else {}))
    entry = catalog.find(settings.model)
    gguf = catalog.joined_file(entry, settings.model_cache_dir) if entry is not None else None
    if gguf is None or not gguf.exists():
        raise RuntimeError(f"no GGUF file for {settings.model!r}: `python -m chatbot models pull {settings.model}`")
    llamacpp_python = python_path()
    if llamacpp_python is None:
        raise RuntimeError("no llama.cpp environment: run `python -m evals.llamacpp_env`")

    database_url = fresh_database(settings.store_dir, database)
    _flush_redis(redis_url)
    ports = worker_ports or [first_port + n for n in range(workers)]
    stack = Stack([f"http://127.0.0.1:{port}" for port in ports],
                  f"http://127.0.0.1:{llamacpp_port}", database_url, redis_url, settings.model, time.time(),
                  lifetime, str(folder))
    try:
        cores = os.cpu_count() or 1
        stack.pids["llamacpp"] = _start(folder, "llamacpp", server_command(
            llamacpp_python, gguf, llamacpp_port, parallel=parallel, ctx=2048 * parallel, threads=threads or cores,
            lifetime=lifetime, detached=True), os.environ)
        worker_env = {**os.environ, **{
            "CHATBOT_MODEL": settings.model, "CHATBOT_GENERATOR": "openai",
            "CHATBOT_OPENAI_BASE_URL": f"{stack.llamacpp}/v1", "CHATBOT_DATABASE_URL": database_url,
            "CHATBOT_RATE_LIMIT_STORAGE": redis_url, "CHATBOT_SECRET_KEY": secrets.token_urlsafe(32),
            "CHATBOT_THREADS": "1",  # the model runs in llama.cpp; a worker embeds one question at a time
        }, **(env or {})}
        for n, url in enumerate(stack.workers):
            port = url.rsplit(":", 1)[1]
            stack.pids[f"worker-{n + 1}"] = _start(folder, f"worker-{n + 1}", [
                "timeout", "--kill-after=30", str(int(lifetime)), sys.executable, "-m", "uvicorn", "app:app",
                "--host", "127.0.0.1", "--port", port, "--no-access-log", "--timeout-graceful-shutdown", "10",
            ], worker_env)
        _write(stack)
        wait_until_up(stack.llamacpp, None, READY_TIMEOUT_S)
        for url in stack.workers:
            _wait_ready(url, stack)
    except BaseException:
        down(folder)
        raise
    return stack


def down(folder: Path | None = None, *, drop_database: bool = True) -> list[str]:
    """Stop every process of the rig (SIGTERM to its session, SIGKILL after 20 s), drop its
    database; return what was stopped."""
    folder = folder or state_dir()
    path = folder / "stack.json"
    try:
        stack = Stack(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return []
    stopped = []
    for name, pid in stack.pids.items():
        if _alive(pid):
            _signal_group(pid, signal.SIGTERM)
            stopped.append(name)
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in stack.pids.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in stack.pids.values():
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
    for name in stack.pids:
        (folder / f"{name}.pid").unlink(missing_ok=True)
    if drop_database:
        _drop_database(stack.database_url)
    path.unlink(missing_ok=True)
    return stopped


@contextmanager
def running(**options) -> Iterator[Stack]:
    """The rig for the length of a `with` block."""
    stack = up(**options)
    try:
        yield stack
    finally:
        down(Path(stack.folder))


@contextmanager
def agent_client(base: str, database_url: str, timeout: float = 120) -> Iterator:
    """An httpx client logged into the agent console of the worker at base, as a new agent."""
    import re

    import httpx

    from chatbot.console.accounts import create_agent
    from shopcore.store.db import make_engine, session_factory

    name, password = f"agent-{secrets.token_hex(4)}", secrets.token_urlsafe(18) + "-Aa1"
    engine = make_engine(database_url)
    create_agent(session_factory(engine), name, password)
    engine.dispose()
    with httpx.Client(base_url=base, timeout=timeout) as client:
        page = client.get("/agent/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        login = client.post("/agent/login", data={"username": name, "password": password, "csrf_token": csrf})
        if login.status_code != 303:
            raise RuntimeError(f"agent login failed with HTTP {login.status_code}")
        yield client


def agent_sees_message(agent_base: str, shopper_base: str, database_url: str, timeout: float = 120) -> float:
    """Log an agent into the console of one worker, open its live feed, send a shopper
    message through another worker; return the seconds until the feed showed it (no reload)."""
    import threading

    import httpx

    with agent_client(agent_base, database_url, timeout) as agent:
        replies: list = []
        with agent.stream("GET", "/agent/live") as feed:
            if feed.status_code != 200:
                raise RuntimeError(f"the console's live feed answered HTTP {feed.status_code}")
            sent = time.perf_counter()
            shopper = threading.Thread(target=lambda: replies.append(httpx.post(
                f"{shopper_base}/v1/chat", json={"message": "Do you ship to Canada?"}, timeout=timeout)))
            shopper.start()
            event, seen = None, None
            for line in feed.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "message" and json.loads(line[5:])["role"] == "user":
                    seen, conversation = time.perf_counter() - sent, json.loads(line[5:])["conversation_id"]
                    break
                if time.perf_counter() - sent > timeout:
                    break
        shopper.join(timeout)
    if seen is None:
        raise RuntimeError(f"the agent's feed on {agent_base} never showed the message sent through {shopper_base}")
    if not replies or replies[0].status_code != 200 or replies[0].json()["conversation_id"] != conversation:
        raise RuntimeError("the message the feed showed is not the one sent")
    return seen


def fresh_database(store_dir: Path, database: str = DATABASE) -> str:
    """An empty database on the local PostgreSQL, migrated, with the demo shop."""
    from sqlalchemy import create_engine, text

    from knowledge.shop_data import load_shop
    from shopcore.store.db import make_engine, migrate, session_factory

    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + database
    _drop_database(url)
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    migrate(url)
    engine = make_engine(url)
    load_shop(session_factory(engine), store_dir, progress=False)
    engine.dispose()
    return url


def _drop_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()  # the rig's own database: rate-limit counters of an earlier run would count
    client.close()


def _start(folder: Path, name: str, command: list[str], env) -> int:
    """Start one process in its own session (so its whole group can be signalled), logging
    to folder/name.log; write its pid file."""
    with open(folder / f"{name}.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=_repo_root(),
                                   start_new_session=True)
    (folder / f"{name}.pid").write_text(str(process.pid))
    return process.pid


def _wait_ready(url: str, stack: Stack) -> None:
    import httpx

    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if not all(_alive(pid) for pid in stack.pids.values()):
            dead = [name for name, pid in stack.pids.items() if not _alive(pid)]
            raise RuntimeError(f"{', '.join(dead)} exited during start; see the logs in {stack.folder}")
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"worker {url} not ready after {READY_TIMEOUT_S} s; see the logs in {stack.folder}")


def _write(stack: Stack) -> None:
    path = Path(stack.folder) / "stack.json"
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps(asdict(stack), indent=1))
    os.replace(staging, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by us) is not alive
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the process's own session: it and its children (timeout -> uvicorn)
    except (ProcessLookupError, PermissionError):
        pass


def _repo_root() -> Path:
    from shopcore.settings import REPO_ROOT

    return REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.stack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start the rig and wait until it is ready")
    start.add_argument("--workers", type=int, default=2)
    start.add_argument("--model", default=None, help="catalog model (its GGUF for llama.cpp); default CHATBOT_MODEL")
    start.add_argument("--lifetime", type=float, default=3600, help="seconds after which the rig stops itself")
    start.add_argument("--parallel", type=int, default=4, help="llama.cpp slots (answers decoded together)")
    commands.add_parser("down", help="stop the rig and drop its database")
    commands.add_parser("status", help="what runs, where")
    args = parser.parse_args(argv)
    if args.command == "up":
        if not 1 <= args.workers <= 8 or not 10 <= args.lifetime <= 24 * 3600:
            parser.error("keep it bounded: 1-8 workers, a lifetime of 10 s to 24 h")
        print(f"starting {args.workers} workers and llama.cpp (stops itself after {args.lifetime:.0f} s) ...",
              flush=True)
        stack = up(workers=args.workers, model=args.model, lifetime=args.lifetime, parallel=args.parallel)
        print(json.dumps(asdict(stack), indent=1))
        return 0
    if args.command == "down":
        stopped = down()
        print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
        return 0
    stack = read()
    if stack is None:
        print("no rig running")
        return 1
    left = stack.started + stack.lifetime - time.time()
    print(json.dumps(asdict(stack), indent=1))
    print(f"stops itself in {left:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
