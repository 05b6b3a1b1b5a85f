"""The focus step: evidence cut to the sentences that answer the question, best first."""

import pytest

from shopcore.schemas import Evidence
from knowledge import retrieval
from knowledge.focus import asks_for, focus, sentences
from knowledge.retrieval import covers


@pytest.mark.parametrize("text, expected", [
    ("You can return items within **30 days**. Start at [the form](x.md).",
     ["You can return items within 30 days.", "Start at the form."]),
    # A short answer or a lead-in alone says nothing: it is joined to what follows, a list's
    # lead-in to each item ("Custom items made to order." alone would say they can be returned).
    ("No.\nOur gift cards never expire and have no fees.", ["No. Our gift cards never expire and have no fees."]),
    ("The following cannot be returned:\n- Gift cards, physical or electronic.\n- Custom items made to order.\n"
     "Everything else can.",
     ["The following cannot be returned: Gift cards, physical or electronic.",
      "The following cannot be returned: Custom items made to order.", "Everything else can."]),
    ("Call us:\nMonday to Friday, 9 to 5 Mountain time.", ["Call us: Monday to Friday, 9 to 5 Mountain time."]),
    # Table rows keep their header; record lines stay whole however short.
    ("| Zone | Standard |\n| --- | --- |\n| Canada | $19.95 |", ["Zone: Canada; Standard: $19.95"]),
    ("SKU: RO-1\nPrice: $99.00", ["SKU: RO-1", "Price: $99.00"]),
])
def test_sentences_of_prose_lists_tables_and_records(text, expected):
    assert sentences(text) == expected


@pytest.mark.parametrize("question, kinds", [
    ("How much is standard shipping?", {"price", "percent"}),
    ("how long does expedited shipping take", {"date", "time", "number"}),
    ("How much does RO-FLC-0010 weigh?", {"number"}),  # a weight, not money
    ("Can I return worn boots?", set()),
    ("What's the free shipping threshold?", {"price", "percent"}),  # an amount
])
def test_the_kind_of_fact_a_question_asks_for(question, kinds):
    assert asks_for(question) == kinds


@pytest.mark.parametrize("question, fact", [
    ("How long do I have to return an item?", "30 days"),
    ("How much is standard shipping?", "$7.95"),
    ("Do gift cards expire?", "never expire"),
])
def test_the_answering_sentence_is_kept_and_the_prompt_shrinks(retriever, question, fact):
    evidence = retriever.evidence(question, 4)
    focused = focus(question, evidence, retriever, 6)
    kept = [s for e in focused for s in e.text.splitlines()]
    assert len(kept) <= 6 and sum(map(len, kept)) < sum(len(e.text) for e in evidence)
    assert any(fact in s for s in kept[:3])  # near the top, where the model looks first
    # The same chunks, under their own titles and relevance: only their text is cut.
    assert {(e.doc_id, e.title, e.score) for e in focused} <= {(e.doc_id, e.title, e.score) for e in evidence}


def test_named_records_stay_whole_and_coverage_does_not_change(retriever):
    order = Evidence("order/A1", "Your order A1", "Order: A1\nStatus: shipped\nCarrier: UPS\nTotal: $10.00", 1.0)
    unrelated = retriever.evidence("What's the weather forecast for Rocky Mountain National Park?", 4)
    focused = focus("where is A1?", [order] + unrelated, retriever, 2)
    assert focused[0] == order
    assert covers(focus("weather in the park?", unrelated, retriever, 2)) == covers(unrelated)
    assert focus("anything", unrelated, retriever, 0) == unrelated  # 0: whole passages


def test_a_kept_sentence_survives_any_rank(retriever):
    question = "How long do I have to return an item?"
    evidence = retriever.evidence(question, 4)
    last = evidence[-1]
    wanted = sentences(last.text)[-1]
    focused = focus(question, evidence, retriever, 1, keep=lambda e, s: e == last and s == wanted)
    assert any(wanted in e.text.splitlines() for e in focused)


def test_sentence_vectors_are_the_embedders_and_the_cache_is_bounded(retriever, monkeypatch):
    monkeypatch.setattr(retrieval, "VECTOR_CACHE_SIZE", 3)
    texts = ["Returns: within 30 days.", "Shipping: $7.95.", "Returns: within 30 days."]
    rows = retriever.text_vectors(texts)
    assert rows.shape[0] == 3 and (rows[0] == rows[2]).all()
    assert abs(rows - retriever.embedder.embed(texts)).max() < 1e-5
    retriever.text_vectors(["a", "b", "c", "d"])
    assert len(retriever._vectors) == 3 and "Shipping: $7.95." not in retriever._vectors


@pytest.mark.parametrize("question, kinds", [
    ("How much food fits in the bear canister?", {"number"}),
    ("how much is the Firefly Stove Kit", {"price", "percent"}),
])
def test_how_much_asks_for_money_unless_for_a_weight_or_a_volume(question, kinds):
    assert asks_for(question) == kinds
