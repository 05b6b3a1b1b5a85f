"""A desk over a fresh copy of the demo shop in a scratch folder, built the way the service
builds its own (`build_desk`), for the load test and the screenshots: they write
conversations, offers and agents, and must not write them into the shop's real store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scratch_desk(home: Path, **overrides) -> Iterator:
    """The configured desk (model, index, risk, offers), with its store in `home`; its
    generators are closed (worker threads stopped) at the end of the `with` block."""
    from chatbot.desk import build_desk
    from shopcore.settings import load_settings
    from shopcore.store.db import make_engine, migrate, session_factory
    from knowledge.shop_data import load_shop

    base = load_settings()
    settings = load_settings(**{
        "home": home, "database_url": f"sqlite:///{home / 'desk.db'}",
        # Shared read-only parts stay where `make setup` put them.
        "model_cache_dir": base.model_cache_dir, "index_dir": base.index_dir,
        "adapter_dir": base.adapter_dir, **overrides,
    })
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    load_shop(session_factory(engine), settings.store_dir)
    engine.dispose()
    desk = build_desk(settings)
    try:
        yield desk
    finally:
        desk.close()
