"""Every process serves the newest knowledge index without a restart.

A rebuild (`python -m knowledge build`, a shop sync in one API worker, `make setup`) writes a
new generation beside the live one and swaps the folder's CURRENT file (knowledge/index.py).
Each process runs an IndexWatch: every WATCH_SECONDS it reads CURRENT, and when it names
another generation than the one the desk serves, it loads that generation and swaps the
desk's retriever. Nothing is rebuilt here; turns in flight keep the retriever they started
with. Several API workers behind one proxy so answer from the same index within seconds.
"""

from __future__ import annotations

import logging
from pathlib import Path

from knowledge.index import CURRENT_FILE
from shopcore.periodic import Periodic

log = logging.getLogger(__name__)
WATCH_SECONDS = 5.0  # reading one small file: cheap enough to do often


def live_generation(folder: Path) -> str | None:
    """The generation CURRENT names in an index folder, or None if there is none yet."""
    try:
        return (Path(folder) / CURRENT_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


class IndexWatch(Periodic):
    """A daemon thread that keeps `desk` on its index folder's live generation."""

    thread_name = "index-watch"

    def __init__(self, desk, interval: float = WATCH_SECONDS):
        super().__init__(interval)
        self.desk = desk

    def check(self) -> bool:
        """Serve the live generation if it is not the one served; True if it swapped."""
        live = live_generation(self.desk.settings.index_dir)
        if live is None or live == self.desk.index_generation:
            return False
        log.info("knowledge index %s -> %s", self.desk.index_generation, live)
        self.desk.load_index()
        return True

    def step(self) -> None:
        try:
            self.check()
        except Exception:  # a half-pruned or broken generation: keep serving, try again
            log.exception("index not swapped; still serving %s", self.desk.index_generation)
