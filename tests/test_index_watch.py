"""A knowledge rebuild in another process is served here without a restart: the index watch
sees CURRENT name a new generation and swaps the desk's retriever (chatbot/index_watch.py).
Real embedder, real FAISS, a real second process building the index."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from chatbot.desk import Desk
from chatbot.index_watch import IndexWatch, live_generation
from knowledge.build import build_index
from knowledge.index import CURRENT_FILE, Index, IndexNotBuilt
from knowledge.retrieval import Retriever
from tests.conftest import make_settings

BUILD = ("import sys; from pathlib import Path; from knowledge.build import build_index; "
         "from knowledge.embed import Embedder; build_index([Path(sys.argv[1])], Path(sys.argv[2]), Embedder())")


@pytest.fixture
def watched(tmp_path, embedder):
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "returns.md").write_text("# Returns\n\nUnworn items can be returned within 30 days of delivery.\n")
    build_index([docs], index_dir, embedder)
    settings = make_settings(tmp_path, index_dir=index_dir)
    desk = Desk(settings, None, None, Retriever(Index.load(index_dir), embedder), None, None,
                index_generation=live_generation(index_dir))
    return desk, docs, index_dir


def titles(desk: Desk, query: str) -> list[str]:
    return [hit.chunk.title for hit in desk.retriever.search(query, k=3)]


def test_a_rebuild_by_another_process_is_served_without_restart(watched):
    desk, docs, index_dir = watched
    first = desk.index_generation
    watch = IndexWatch(desk, interval=0.2).start()
    try:
        assert not watch.check()  # nothing new: the same retriever stays
        (docs / "gift-cards.md").write_text("# Gift cards\n\nGift cards never expire and work online and in store.\n")
        subprocess.run([sys.executable, "-c", BUILD, str(docs), str(index_dir)], check=True, timeout=300)
        deadline = time.monotonic() + 30
        while desk.index_generation == first:
            assert time.monotonic() < deadline, "the watch did not pick up the new generation"
            time.sleep(0.1)
    finally:
        watch.close()
    assert desk.index_generation == live_generation(index_dir) != first
    assert len(desk.retriever.index.chunks) == 2
    assert titles(desk, "do gift cards expire?")[0] == "Gift cards"


def test_a_broken_generation_keeps_the_served_index(watched, caplog):
    desk, _, index_dir = watched
    served, generation = desk.retriever, desk.index_generation
    (index_dir / CURRENT_FILE).write_text("gen-999999")  # names a generation that is not there
    watch = IndexWatch(desk)
    with pytest.raises(IndexNotBuilt):
        watch.check()
    assert desk.retriever is served and desk.index_generation == generation
    watch._stop.set()  # the thread's loop logs and goes on rather than dying
    (index_dir / CURRENT_FILE).write_text(generation)
    assert not IndexWatch(desk).check()


def test_refresh_in_this_process_is_not_loaded_twice(watched, tmp_path):
    desk, docs, index_dir = watched
    desk.settings = make_settings(tmp_path, index_dir=index_dir, docs_dirs=[docs])
    (docs / "hours.md").write_text("# Hours\n\nThe phone line is open 9 to 5 on weekdays.\n")
    desk.refresh_index()
    assert desk.index_generation == live_generation(index_dir)
    assert not IndexWatch(desk).check()
    assert titles(desk, "when is the phone line open?")[0] == "Hours"
