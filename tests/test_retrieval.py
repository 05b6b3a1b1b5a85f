"""Hybrid retrieval over the demo shop, filters, relevance scores, and another shop's folder
indexed with no code change."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shopcore.schemas import Evidence
from shopcore.settings import REPO_ROOT
from knowledge.index import Index
from knowledge.keyword import terms
from knowledge.retrieval import COVERAGE_THRESHOLD, Retriever, covers
from tests.conftest import MODEL_CACHE

OTHER_SHOP = Path(__file__).parent / "fixtures" / "other_shop"


def test_demo_index_finds_the_returns_policy(retriever):
    hits = retriever.search("How long do I have to return an item?", k=5)
    # First, not below a parcel policy that says "as long as they are in stock".
    assert hits[0].chunk.doc_id == "policies/returns"
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_question_and_condition_phrases_are_not_keyword_terms():
    assert terms("How long is the warranty, as long as I registered?") == ["warranti", "regist"]
    assert "long" in terms("Is the long-sleeve base layer warm?")


@pytest.mark.parametrize("question, sku", [
    ("What product is SKU RO-JKT-0004?", "RO-JKT-0004"),
    ("hw much does RO-TNT-0002 cost", "RO-TNT-0002"),
])
def test_skus_are_found_by_the_keyword_side_when_embeddings_miss_them(retriever, question, sku):
    dense = [h.chunk.doc_id for h in retriever.search(question, 5, mode="dense")]
    assert f"product/{sku}" not in dense  # the embedding alone does not find it
    (top,) = retriever.search(question, 1)
    assert top.chunk.doc_id == f"product/{sku}" and top.coverage > 0


def test_contractions_without_apostrophes_are_stop_words():
    assert terms("whats the deal, dont know, im lost") == terms("what's the deal, don't know, I'm lost")
    assert terms("rain shell") == ["rain", "shell"]


@pytest.mark.parametrize("question", ["whats RO-FLC-0001", "hw much does RO-ACC-0012 cost", "RO-FLC-0001?"])
def test_a_named_sku_covers_the_question(retriever, question):
    sku = re.search(r"RO-\w+-\d+", question).group()
    top = retriever.search(question, 3)[0]
    assert top.chunk.doc_id == f"product/{sku}" and top.score == 1.0
    family = retriever.search(question.replace(sku, sku[:-4] + "9999"), 3)  # an unknown SKU names nothing
    assert all(h.score < 1.0 for h in family)


def test_filters_by_document_type_and_category(retriever):
    policies = retriever.search("waterproof", 5, doc_types=["policies"])
    assert policies and {h.chunk.doc_type for h in policies} == {"policies"}
    jackets = retriever.search("something warm for winter", 5, categories=["jackets"])
    assert jackets and {h.chunk.metadata["category"] for h in jackets} == {"Jackets"}
    assert retriever.search("waterproof", 5, doc_types=["no-such-type"]) == []


def test_bad_mode_is_refused(retriever):
    with pytest.raises(ValueError, match="hybrid"):
        retriever.search("boots", mode="semantic")


def test_scores_are_relevances_that_decide_coverage(retriever):
    answerable = retriever.evidence("Can I return worn boots?", 4)
    unanswerable = retriever.evidence("What's the weather forecast for Rocky Mountain National Park?", 4)
    assert all(0 <= e.score <= 1 for e in answerable + unanswerable)
    assert covers(answerable) and not covers(unanswerable)
    assert covers([Evidence("order/A1", "Your order A1", "Status: shipped", 1.0)])
    assert not covers([]) and 0 < COVERAGE_THRESHOLD < 1


@pytest.fixture(scope="module")
def other_shop_index(tmp_path_factory):
    """The bike shop indexed by the command a shop would run, with no code change."""
    folder = tmp_path_factory.mktemp("bike") / "index"
    env = {**os.environ, "CHATBOT_HOME": str(folder.parent), "CHATBOT_MODEL_CACHE_DIR": str(MODEL_CACHE)}
    done = subprocess.run([sys.executable, "-m", "knowledge", "build", "--no-catalog",
                           "--source", str(OTHER_SHOP), "--index", str(folder)],
                          cwd=REPO_ROOT, env=env, text=True, capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "documents: 17 (17 added" in done.stdout
    assert "skipped corrupt-invoice.pdf: unreadable PDF" in done.stdout
    return folder


@pytest.mark.parametrize("question, doc_id", [
    ("How long does a tune-up take?", "policies/repair-turnaround"),
    ("Is the labour on a repair guaranteed?", "policies/warranty"),
    ("How much is the deposit when I rent a bike?", "rental-agreement"),
    ("What time do you open on Saturday?", "store-hours"),
    ("Do you take cheques?", "faq/payment"),
    ("Can I get a loaner bike during my repair?", "faq/loan-bike"),
    ("PT-TYR-700", "parts/PT-TYR-700"),
    ("price of a hydraulic brake bleed", "services/SVC-BLEED"),
])
def test_another_shop_gets_correct_top_hits(other_shop_index, embedder, question, doc_id):
    retriever = Retriever(Index.load(other_shop_index), embedder)
    assert retriever.search(question, 1)[0].chunk.doc_id == doc_id
