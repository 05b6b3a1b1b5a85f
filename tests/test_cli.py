"""The command lines as a user runs them, in a subprocess with CHATBOT_* variables."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from shopcore.settings import REPO_ROOT
from tests.conftest import MODEL_CACHE


def run(args, env, timeout=300):
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO_ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout)


@pytest.fixture
def env(tmp_path, demo_db, demo_index_dir):
    db = tmp_path / "demo.db"
    shutil.copy(demo_db.split("///", 1)[1], db)
    return {**os.environ, "CHATBOT_HOME": str(tmp_path), "CHATBOT_DATABASE_URL": f"sqlite:///{db}",
            "CHATBOT_INDEX_DIR": str(demo_index_dir), "CHATBOT_MODEL_CACHE_DIR": str(MODEL_CACHE),
            "CHATBOT_DEVICE": "cpu"}


@pytest.mark.slow
def test_ask_json_answers_from_the_returns_policy(env):
    done = run(["chatbot", "ask", "--json", "How long do I have to return an item?"], env)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert set(body) >= {"answer", "sources", "risk", "offer", "conversation_id", "latency_ms"}
    assert body["answer"].strip()
    assert "policies/returns" in [s["doc_id"] for s in body["sources"]]
    assert all(set(s) == {"doc_id", "title", "score", "n", "cited"} for s in body["sources"])
    assert [s["n"] for s in body["sources"]] == list(range(1, len(body["sources"]) + 1))


def test_ask_with_an_unreadable_index_fails_clearly(env, tmp_path):
    broken = tmp_path / "broken-index"
    broken.mkdir()
    (broken / "manifest.json").write_text("{")
    done = run(["chatbot", "ask", "--index", str(broken), "hello"], env)
    assert done.returncode == 1
    assert "no usable knowledge index" in done.stderr and "knowledge build" in done.stderr


def test_bad_setting_stops_with_the_variable_name(env):
    done = run(["chatbot", "ask", "hello"], {**env, "CHATBOT_DEVICE": "quantum"})
    assert done.returncode == 2 and "CHATBOT_DEVICE" in done.stderr


def test_knowledge_query_prints_top_chunks(env):
    done = run(["knowledge", "query", "--json", "--k", "3", "return window"], env)
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert len(hits) == 3 and hits[0]["score"] >= hits[-1]["score"]
