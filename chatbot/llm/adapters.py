"""Which LoRA adapter the service runs, chosen by the registry (chatbot/llm/registry.py), and
the watch that switches adapters in a running service without a restart.

At start the chosen adapter is merged into the loaded weights (or, with an OpenAI-compatible
server, its name is what the desk asks the server for). Every WATCH_SECONDS the
watch asks the registry again; when the choice names another adapter (`python -m finetune
use NAME`, a newer good adapter, the suite judging the served one not good), the generator
swaps models between batches: no answer mixes two adapters and none is dropped.
"""

from __future__ import annotations

import logging

from chatbot.llm.registry import WATCH_SECONDS, AdapterError, Choice, choose
from shopcore.periodic import Periodic

log = logging.getLogger(__name__)


def chosen_adapter(settings) -> Choice:
    return choose(settings.adapter, settings.adapter_dir, settings.model)


class AdapterWatch(Periodic):
    """A daemon thread that keeps `generator` on the registry's current choice."""

    thread_name = "adapter-watch"
    join_timeout_s = 5.0

    def __init__(self, generator, settings, interval: float = WATCH_SECONDS):
        super().__init__(interval)
        self.generator, self.settings = generator, settings

    def check(self) -> bool:
        """Switch if the choice changed; True if it did."""
        try:
            choice = chosen_adapter(self.settings)
        except AdapterError as exc:  # a bad choice keeps the current model serving
            log.warning("adapter not switched: %s", exc)
            return False
        if choice.version == self.generator.adapter_version:
            return False
        if hasattr(self.generator, "use_adapter"):  # a server serves adapters by name: nothing to load
            if self.settings.openai_model:  # CHATBOT_OPENAI_MODEL names it for good
                return False
            return self.generator.use_adapter(choice.version)
        from chatbot.llm.loading import load_model

        log.info("switching adapter %s -> %s", self.generator.adapter_version, choice.version)
        loaded = load_model(self.settings, adapter=choice.path)  # off the worker: answers go on meanwhile
        self.generator.swap_model(lambda _old: loaded.model, choice.version)
        return True

    def step(self) -> None:
        try:
            self.check()
        except Exception:  # an unreadable adapter must not stop the watch or the service
            log.exception("adapter switch failed; still serving %s", self.generator.adapter_version)
