"""A daemon thread that takes one step every so often until it is closed: what keeps a served
process current (the index and adapter watches, chatbot/index_watch.py and
chatbot/llm/adapters.py; the shop's SQL sync, knowledge/shop_sync.py).

A subclass names its thread and says what one step is; a step handles its own errors, so
one bad round never ends the thread.
"""

from __future__ import annotations

import threading
from typing import Self


class Periodic:
    thread_name = "periodic"
    join_timeout_s = 10.0  # close() waits this long for a step under way

    def __init__(self, interval: float, *, first_now: bool = False):
        self.interval = interval
        self._first_now = first_now  # a step at once on start, else the first after `interval`
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    def step(self) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.join_timeout_s)

    def _run(self) -> None:
        if self._first_now:
            self.step()
        while not self._stop.wait(self.interval):
            self.step()
