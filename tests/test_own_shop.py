"""A second shop made by `init-shop` shares nothing with the demo shop: not its store, index,
chat page, widget page, offer codes or fine-tuning data, after setup has run twice (as two
`make run`s would) and with the served app started."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from shopcore.settings import REPO_ROOT, load_settings
from tests.conftest import MODEL_CACHE, SMOLLM2

DEMO = REPO_ROOT / "knowledge" / "demo"


def demo_markers() -> list[str]:
    """Text only the demo shop has: its name, product names and SKUs, FAQ questions, examples."""
    products = json.loads((DEMO / "store" / "products.json").read_text(encoding="utf-8"))
    faq = (DEMO / "docs" / "faq.md").read_text(encoding="utf-8")
    examples = load_settings().example_questions  # the demo profile's
    return (["Ridgeline", "Trailhead", "RO-"] + [p["name"] for p in products]
            + [line[3:] for line in faq.splitlines() if line.startswith("## ")] + examples)


def leaks(text: str, markers: list[str]) -> list[str]:
    return [m for m in markers if m in text]


@pytest.fixture(scope="module")
def second_shop(tmp_path_factory, smollm2_dir):
    from chatbot.onboarding import init_shop

    root = tmp_path_factory.mktemp("second-shop")
    profile = init_shop(root / "lantern", "Paper Lantern Books")
    env = {**os.environ, "CHATBOT_HOME": str(root / "home"), "CHATBOT_SHOP": str(profile),
           "CHATBOT_MODEL": SMOLLM2, "CHATBOT_MODEL_CACHE_DIR": str(MODEL_CACHE)}
    runs = [subprocess.run([sys.executable, "-m", "chatbot", "setup"], env=env, cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=600) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
    settings = load_settings(home=root / "home", shop=profile, model=SMOLLM2, model_cache_dir=MODEL_CACHE)
    return settings, runs


def test_setup_loads_and_indexes_only_the_shops_own_data(second_shop):
    from sqlalchemy import select

    from knowledge.index import Index
    from shopcore.store.db import make_engine, session_factory
    from shopcore.store.models import Customer, Product

    settings, runs = second_shop
    assert "Paper Lantern Books" in runs[0].stdout and "Ridgeline" not in runs[0].stdout + runs[1].stdout
    assert "products: 2 from products.csv (0 added, 0 updated, 2 unchanged)" in runs[1].stdout  # changes nothing
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        assert set(session.scalars(select(Product.sku))) == {"SAMPLE-001", "SAMPLE-002"}
        assert list(session.scalars(select(Customer.name))) == ["Sample Customer"]
    engine.dispose()
    index = Index.load(settings.index_dir)
    assert {c.doc_id for c in index.chunks} >= {"faq", "policies/returns", "policies/shipping"}
    markers = demo_markers()
    assert not [c.doc_id for c in index.chunks if leaks(c.title + c.text, markers)]
    assert settings.calibration_file.exists()  # its own hand-off threshold
    # The desk's ready-made adapter only fits the default model; this test serves SmolLM2: none.
    assert not list(settings.adapter_dir.glob("*/adapter_config.json"))


def test_the_chat_page_widget_page_and_offers_are_the_shops(second_shop):
    from fastapi.testclient import TestClient

    from chatbot.api import create_app

    settings, _ = second_shop
    markers = demo_markers()
    with TestClient(create_app(settings)) as client:
        page = client.get("/config").text  # the Gradio page's title, examples and components
        assert "Paper Lantern Books" in page and "How long does delivery take?" in page
        assert leaks(page, markers) == []
        widget = client.get("/widget/demo").text
        assert "Paper Lantern Books" in widget and leaks(widget, markers) == []
        script = client.get("/widget.js").text  # the widget's title and greeting default to the profile's
        assert '"title": "Chat with Paper Lantern Books"' in script and "the Paper Lantern Books assistant" in script
        assert leaks(script, markers) == []
        desk = client.app.state.desk
        from chatbot.ui import demo_customers

        assert [label for label, _ in demo_customers(client.app)][1:] == [
            "Sample Customer (customer 1, 1 order)"]
        assert desk.policy.code_prefix == "PLB-"


def test_fine_tuning_data_holds_only_the_shops_examples(second_shop, tmp_path):
    from transformers import AutoTokenizer

    from finetune.data import DataConfig, build_dataset
    from knowledge.embed import Embedder
    from knowledge.index import Index
    from knowledge.retrieval import Retriever
    from shopcore.store.db import make_engine, session_factory

    settings, _ = second_shop
    engine = make_engine(settings.database_url)
    card = build_dataset(DataConfig(size=60, held_out_size=12), settings=settings,
                         retriever=Retriever(Index.load(settings.index_dir), Embedder(settings.embedding_model)),
                         sessions=session_factory(engine), tokenizer=AutoTokenizer.from_pretrained(
                             str(MODEL_CACHE / SMOLLM2)), questions=[], out_dir=tmp_path)
    engine.dispose()
    assert card["shop"] == "Paper Lantern Books" and card["train_total"] > 0
    assert card["held_out_sections"] > 0 and card["held_out_total"] > 0  # a held-out part of its own
    own = {"faq", "policies/returns", "policies/shipping", "product/SAMPLE-001", "product/SAMPLE-002"}
    assert set(card["documents"]) - own <= {d for d in card["documents"] if d.startswith("order/")}
    written = (tmp_path / "train.jsonl").read_text(encoding="utf-8") + (tmp_path / "heldout.jsonl").read_text(
        encoding="utf-8")
    assert leaks(written, demo_markers()) == []
