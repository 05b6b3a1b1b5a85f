"""Fixtures over the real parts: SQLite and PostgreSQL stores, the demo shop, the real
embedder and FAISS index, the catalog's SmolLM2 model, and a tiny Llama for plumbing tests.

Expensive parts are session-scoped and read-only; tests that write get a fresh database.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shopcore.settings import REPO_ROOT, Settings

# Most model tests run on the small SmolLM2 (`make test` pulls it); tests of the default
# model (Qwen2.5-0.5B) ask for it by name.
SMOLLM2 = "smollm2-135m"
# The shop's other languages are translated by the served model in tests (and in the desks and
# servers they start, which inherit this): the 1.5B translator (CHATBOT_TRANSLATION_MODEL's
# default) would load 3 GB into each; tests/test_llm.py loads a translator of its own.
os.environ["CHATBOT_TRANSLATION_MODEL"] = ""
# The model cache is shared with `make setup`, so the GGUF conversion happens once.
MODEL_CACHE = Path(os.environ.get("CHATBOT_MODEL_CACHE_DIR", REPO_ROOT / "var" / "models"))
POSTGRES_URL = os.environ.get(
    "CHATBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def make_settings(home: Path, **overrides) -> Settings:
    return Settings(home=home, model_cache_dir=MODEL_CACHE, **{"model": SMOLLM2, **overrides})


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path)


def _postgres_database() -> str:
    """A new, empty PostgreSQL database for one test; skipped with a reason if unreachable."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            name = f"chatbot_test_{uuid.uuid4().hex[:12]}"
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server: say so instead of failing every store test
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.__class__.__name__}")
    finally:
        admin.dispose()
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


def _drop_postgres(url: str) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """An empty, migrated database on each engine the store supports."""
    from shopcore.store.db import migrate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        migrate(url)
        yield url
    else:
        url = _postgres_database()
        try:
            migrate(url)
            yield url
        finally:
            _drop_postgres(url)


@pytest.fixture
def sessions(database_url):
    from shopcore.store.db import make_engine, session_factory

    engine = make_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> str:
    """A SQLite database with the demo shop loaded; treat it as read-only."""
    from shopcore.store.db import make_engine, migrate, session_factory
    from knowledge.shop_data import load_shop

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    migrate(url)
    engine = make_engine(url)
    load_shop(session_factory(engine), make_settings(Path("/nonexistent")).store_dir)
    engine.dispose()
    return url


@pytest.fixture
def demo_sessions(demo_db, tmp_path):
    """A writable copy of the demo database for one test."""
    import shutil

    from shopcore.store.db import make_engine, session_factory

    path = tmp_path / "demo.db"
    shutil.copy(demo_db.split("///", 1)[1], path)
    engine = make_engine(f"sqlite:///{path}")
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def embedder():
    from knowledge.embed import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def demo_index_dir(tmp_path_factory, embedder, demo_db) -> Path:
    """The demo shop's policies, FAQ and catalog, indexed once for the whole run."""
    from shopcore.store.db import make_engine, session_factory
    from knowledge.build import build_index

    folder = tmp_path_factory.mktemp("index") / "index"
    engine = make_engine(demo_db)
    build_index(make_settings(Path("/nonexistent")).docs_dirs, folder, embedder, session_factory(engine))
    engine.dispose()
    return folder


@pytest.fixture(scope="session")
def retriever(demo_index_dir, embedder):
    from knowledge.index import Index
    from knowledge.retrieval import Retriever

    return Retriever(Index.load(demo_index_dir), embedder)


@pytest.fixture(scope="session")
def smollm2_dir() -> str:
    """SmolLM2 as a safetensors folder (pulled and converted from its wheel's GGUF once)."""
    from chatbot.llm.loading import resolve_model_path

    return resolve_model_path(SMOLLM2, MODEL_CACHE)


@pytest.fixture(scope="session")
def smollm2(smollm2_dir, tmp_path_factory):
    """The real embedded model, loaded once."""
    from chatbot.llm.loading import load_model

    return load_model(make_settings(tmp_path_factory.mktemp("home"), device="cpu"))


@pytest.fixture(scope="session")
def tiny_model_dir(smollm2_dir, tmp_path_factory) -> Path:
    """A randomly initialised two-layer Llama with SmolLM2's tokenizer: real transformers
    code paths in milliseconds, for tests about plumbing rather than answer quality."""
    from evals.tiny_model import build_tiny_llama

    return build_tiny_llama(smollm2_dir, tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir, tmp_path_factory):
    from chatbot.llm.loading import load_model

    # float32 without quantization: only float32 answers are bit-for-bit the same decoded
    # alone or together (bf16 rounding differs with the batch's size), which the batching
    # tests check.
    return load_model(make_settings(tmp_path_factory.mktemp("home"), model=str(tiny_model_dir),
                                    device="cpu", dtype="float32", quantize="none"))


@pytest.fixture(scope="session")
def risk_scorer(embedder):
    """The churn-risk scorer over the cached model (trained once by `make setup`, or here)."""
    from chatbot.risk.scoring import RiskScorer

    return RiskScorer.build(make_settings(Path("/nonexistent")), embedder)


@pytest.fixture
def make_desk(demo_sessions, retriever, risk_scorer, tmp_path):
    """Build a Desk over the demo shop with the given loaded model."""
    from chatbot.desk import Desk
    from chatbot.llm.generation import HFGenerator
    from chatbot.offers.policy import load_policy

    generators = []

    def build(loaded, **overrides) -> Desk:
        settings = make_settings(tmp_path, **overrides)
        generators.append(HFGenerator(loaded, max_batch=settings.max_batch, max_queue=settings.max_queue))
        return Desk(settings, demo_sessions, generators[-1], retriever, risk_scorer,
                    load_policy(settings.offer_policy))

    yield build
    for generator in generators:  # stop their worker threads
        generator.close()


@pytest.fixture
def api_app(make_desk, tiny_model):
    """The whole HTTP app (API, console, chat page) over the demo shop with the tiny model."""
    from chatbot.api import create_app

    def build(**overrides):
        return create_app(desk=make_desk(tiny_model, **{"max_new_tokens": 12, **overrides}))

    return build


@pytest.fixture
def client(api_app):
    """A test client of the app with default settings (startup and shutdown run)."""
    from fastapi.testclient import TestClient

    with TestClient(api_app()) as test_client:
        yield test_client
