"""The multi-process rig (evals/stack.py) on this machine: two API worker processes on the
local PostgreSQL and Redis, generating on llama.cpp's server (SmolLM2's GGUF). What one
process does, the other sees: an agent's live feed on worker 1 shows a shopper message sent
through worker 2; a conversation goes on through either; the rate limits count in Redis for
both; a rebuilt index is served by both. The turn slots (503 + Retry-After) are per worker.
Timings are printed, never asserted."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import httpx
import pytest

from evals import llamacpp_env, stack

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
MODEL = "smollm2-135m"
PER_ADDRESS = 6


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    import redis
    from sqlalchemy import create_engine, text

    from shopcore.settings import load_settings

    try:
        engine = create_engine(stack.POSTGRES_ADMIN_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        redis.Redis.from_url("redis://127.0.0.1:6379/14").ping()
    except Exception as exc:
        pytest.skip(f"the rig needs the local PostgreSQL and Redis: {type(exc).__name__}: {exc}")
    if llamacpp_env.python_path() is None:
        try:
            llamacpp_env.create()
        except Exception as exc:
            pytest.skip(f"cannot install {llamacpp_env.LLAMA_CPP_REQUIREMENT}: {exc}")
    folder = tmp_path_factory.mktemp("stack")
    index = folder / "index"  # a copy the test may rebuild; the workers serve it
    shutil.copytree(load_settings().index_dir, index)  # the shop's index, as the workers would serve it
    env = {"CHATBOT_INDEX_DIR": str(index), "CHATBOT_MAX_BATCH": "1", "CHATBOT_MAX_QUEUE": "1",
           "CHATBOT_MAX_NEW_TOKENS": "48", "CHATBOT_RATE_LIMIT_PER_ADDRESS": f"{PER_ADDRESS}/hour"}
    started = time.perf_counter()
    rig = stack.up(workers=2, model=MODEL, env=env, lifetime=900, parallel=2, folder=folder,
                   worker_ports=[llamacpp_env.free_port(), llamacpp_env.free_port()],
                   llamacpp_port=llamacpp_env.free_port(), database="chatbot_stack_test",
                   redis_url="redis://127.0.0.1:6379/14")
    print(f"\nrig up in {time.perf_counter() - started:.0f} s")
    try:
        yield rig
    finally:
        stopped = stack.down(folder)
        assert set(stopped) == {"llamacpp", "worker-1", "worker-2"}
        assert not any(stack._alive(pid) for pid in rig.pids.values()), "a rig process outlived `down`"


def test_an_agent_on_worker_1_sees_a_message_sent_through_worker_2(rig):
    delay = stack.agent_sees_message(rig.workers[0], rig.workers[1], rig.database_url)
    print(f"\nlive event across processes after {delay:.2f} s")


def test_an_agent_logged_in_on_one_worker_is_logged_in_on_the_other(rig):
    with stack.agent_client(rig.workers[0], rig.database_url) as agent:
        with httpx.Client(base_url=rig.workers[1], cookies=agent.cookies) as other:
            assert other.get("/agent").status_code == 200  # the session row is in PostgreSQL
        cookie = dict(agent.cookies)  # as a stolen copy would be
        assert agent.post("/agent/logout", data={"csrf_token": csrf(agent)}).status_code == 303
        with httpx.Client(base_url=rig.workers[1], cookies=cookie) as other:
            assert other.get("/agent").status_code == 303  # the login ended on every worker at once


def csrf(client: httpx.Client) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/agent").text).group(1)


def test_a_conversation_goes_on_through_either_worker(rig):
    first = httpx.post(f"{rig.workers[0]}/v1/chat", json={"message": "How long do I have to return an item?"},
                       timeout=300)
    assert first.status_code == 200
    conversation = first.json()["conversation_id"]
    second = httpx.post(f"{rig.workers[1]}/v1/chat", json={"message": "And worn boots?",
                                                            "conversation_id": conversation}, timeout=300)
    assert second.status_code == 200 and second.json()["conversation_id"] == conversation
    from shopcore.store.db import make_engine, session_factory
    from shopcore.store.models import Message
    from sqlalchemy import select

    engine = make_engine(rig.database_url)
    with session_factory(engine)() as session:
        roles = session.scalars(select(Message.role).where(Message.conversation_id == conversation)
                                .order_by(Message.id)).all()
    engine.dispose()
    assert roles == ["user", "assistant", "user", "assistant"]


def test_rate_limits_count_for_both_workers_together(rig):
    transport = httpx.HTTPTransport(local_address="127.77.0.1")
    statuses = []
    with httpx.Client(transport=transport) as client:
        for n in range(PER_ADDRESS + 3):  # an empty message: counted, then refused with 422
            statuses.append(client.post(f"{rig.workers[n % 2]}/v1/chat", json={"message": ""}).status_code)
    assert statuses == [422] * PER_ADDRESS + [429] * 3


def test_turn_slots_are_per_worker(rig):
    """Each worker takes CHATBOT_MAX_BATCH + CHATBOT_MAX_QUEUE turns (2 here) and refuses more
    with 503 + Retry-After before storing anything; the other worker's slots are its own."""

    async def ask(base: str, n: int) -> tuple[str, int, str | None]:
        transport = httpx.AsyncHTTPTransport(local_address=f"127.78.0.{n + 1}")
        async with httpx.AsyncClient(transport=transport, timeout=300) as client:
            response = await client.post(f"{base}/v1/chat", json={"message": "Can I return worn boots?"})
            return base, response.status_code, response.headers.get("retry-after")

    async def together():
        return await asyncio.gather(*(ask(rig.workers[0], n) for n in range(4)),
                                    *(ask(rig.workers[1], n + 10) for n in range(2)))

    started = time.perf_counter()
    results = asyncio.run(together())
    on_1 = [(status, retry) for base, status, retry in results if base == rig.workers[0]]
    on_2 = [status for base, status, _ in results if base == rig.workers[1]]
    print(f"\n4 turns at worker 1, 2 at worker 2 in {time.perf_counter() - started:.1f} s: {on_1}, {on_2}")
    assert sorted(s for s, _ in on_1) == [200, 200, 503, 503]
    assert all(retry for s, retry in on_1 if s == 503)
    assert on_2 == [200, 200]  # worker 1 being full refuses nothing on worker 2


def test_a_rebuilt_index_is_served_by_every_worker(rig, tmp_path, embedder):
    from knowledge.build import build_index

    index = Path(rig.folder) / "index"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "gift-cards.md").write_text("# Gift cards\n\nGift cards never expire and work online and in store.\n")
    before = [httpx.get(f"{w}/healthz").json()["chunks"] for w in rig.workers]
    started = time.perf_counter()
    build_index([docs], index, embedder)  # this process, neither worker: only CURRENT tells them
    deadline = time.monotonic() + 60
    while [httpx.get(f"{w}/healthz").json()["chunks"] for w in rig.workers] != [1, 1]:
        assert time.monotonic() < deadline, "a worker kept serving the old index"
        time.sleep(0.25)
    print(f"\nindex {before} -> [1, 1] chunks in both workers after {time.perf_counter() - started:.1f} s")
