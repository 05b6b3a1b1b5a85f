"""The eval harness: metrics on hand-worked examples, and the report it writes."""


import pytest

from evals.__main__ import main
from evals.report import write_report
from evals.retrieval import score
from evals.suite import SuiteResult, dev_questions


def test_retrieval_metrics_on_three_questions():
    questions = [{"id": "a", "question": "", "doc_ids": ["x"]},
                 {"id": "b", "question": "", "doc_ids": ["y", "z"]},
                 {"id": "c", "question": "", "doc_ids": ["w"]}]
    ranked = {"a": ["x", "q"], "b": ["q", "q2", "z"], "c": ["q"] * 6}
    metrics, details = score(questions, lambda q: ranked[q["id"]])
    # a: first (1/1); b: third (1/3); c: missing (0).
    assert metrics == pytest.approx({"recall@1": 1 / 3, "recall@5": 2 / 3, "mrr": (1 + 1 / 3) / 3})
    assert [d["position"] for d in details] == [0, 2, None]


def test_dev_set_is_large_and_labeled():
    questions = dev_questions()
    answerable = [q for q in questions if q["doc_ids"]]
    assert len(answerable) >= 150 and len({q["id"] for q in questions}) == len(questions)
    assert all(q["key_fact"] for q in answerable)


def test_report_has_table_and_metrics(tmp_path):
    result = SuiteResult("demo", {"mrr": 0.5}, rows=[{"method": "dense", "mrr": 0.5}])
    text = write_report(result, tmp_path).read_text()
    assert "| method | mrr |" in text and "| dense | 0.500 |" in text


def test_unknown_suite_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--suite", "nope"])
    assert "invalid choice" in capsys.readouterr().err


def test_answer_metrics_on_hand_made_rows():
    from evals.answers import is_refusal, score
    from chatbot.handoff import HANDOFF_REPLY

    def row(kind, answer, cited=(), facts=0, grounded=0, guardrail=None, reachable=True, first=False):
        return {"kind": kind, "answer": answer, "key_fact": "30 days", "expected": ["policies/returns"],
                "cited": list(cited), "refused": is_refusal(answer), "guardrail": guardrail,
                "facts": facts, "grounded_facts": grounded, "fact_reachable": reachable, "fact_first": first}

    rows = [
        row("policy", "You have 30 days [1].", ["policies/returns"], 1, 1, first=True),
        row("policy", "You have 45 days.", [], 1, 0, "fallback"),
        row("faq", HANDOFF_REPLY, guardrail="handoff", reachable=False),
        row("unanswerable", HANDOFF_REPLY, guardrail="handoff"),
        row("handoff", "I don't know, but I can connect you with a person from our team."),
        row("unanswerable", "Yes, we sell kayaks for $99.", [], 1, 0),
    ]
    metrics = score(rows)
    assert metrics["key_fact_accuracy"] == pytest.approx(1 / 3)
    assert metrics["citation_accuracy"] == pytest.approx(1 / 3)
    assert metrics["refusal_accuracy"] == pytest.approx(2 / 3)
    assert metrics["groundedness"] == pytest.approx(1 / 3)
    assert metrics["answerable_refused"] == pytest.approx(1 / 3)
    assert metrics["guardrail_intervened"] == pytest.approx(1 / 3)
    assert metrics["key_fact_ceiling"] == pytest.approx(2 / 3)
    assert metrics["key_fact_first"] == pytest.approx(1 / 3)


def test_answer_and_latency_suites_are_registered():
    from evals.suites import SUITES

    assert {"retrieval", "answers", "latency", "second_shop"} <= set(SUITES)


def test_the_second_shop_questions_are_labelled_from_its_documents():
    """Every key fact is in every document its question cites (evals/data/second_shop/check.py)."""
    import subprocess
    import sys

    from evals.suite import DATA_DIR

    done = subprocess.run([sys.executable, str(DATA_DIR / "second_shop" / "check.py")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "162 questions" in done.stdout


def test_reciprocal_rank_fusion_rewards_agreement():
    from evals.retrieval import reciprocal_rank_fusion

    assert reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "a"]])[0] == "b"
    assert reciprocal_rank_fusion([["a"], []]) == ["a"]


def test_benchmark_runs_exact_and_ivf_on_a_small_synthetic_set(retriever, embedder):
    import numpy as np

    from evals.retrieval_bench import benchmark, synthetic_vectors

    index = retriever.index
    seeds = index.stored_vectors(list(range(20)))  # a few seeds: their texts are embedded for throughput
    vectors, origins = synthetic_vectors(seeds, 500)
    assert vectors.shape == (500, seeds.shape[1]) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert (vectors * seeds[origins]).sum(axis=1).min() > 0.5  # each stays near its main seed
    questions = [q["question"] for q in dev_questions()[:6]]
    result = benchmark((3000,), seeds, questions, embedder, index.chunks[:20], exact_max=1000)
    exact, ivf, hybrid = result.rows
    assert exact["index"] == "exact" and exact["recall@10"] == 1.0
    assert ivf["index"].startswith("ivf") and 0 <= ivf["recall@10"] <= 1 and ivf["build_recall@10"] >= 0.9
    assert ivf["p95_ms"] >= ivf["p50_ms"] > 0
    assert hybrid["index"] == f"hybrid over {ivf['index']}" and hybrid["p95_ms"] >= hybrid["p50_ms"] > 0
    assert set(result.metrics) == {"p95_ms_3k", "recall@10_3k", "hybrid_p95_ms_3k"}


def test_classification_metrics_on_four_messages():
    import numpy as np

    from evals.risk import classification_metrics

    labels = np.array([True, True, False, False])
    probabilities = np.array([0.9, 0.4, 0.6, 0.1])
    # At 0.5: one true positive, one false positive, one false negative. Of the four
    # positive/negative pairs, three are ranked the right way round: AUC 3/4.
    assert classification_metrics(labels, probabilities, 0.5) == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "roc_auc": 0.75})


def test_offer_decision_metrics_on_four_conversations():
    from evals.offers import score

    conversations = [
        {"kind": "cancellation", "expect_offer": True, "offer_turn": 0, "expect_handoff": False},
        {"kind": "escalating", "expect_offer": True, "offer_turn": 2, "expect_handoff": False},
        {"kind": "offer_begging", "expect_offer": False, "expect_handoff": False},
        {"kind": "legal", "expect_offer": False, "expect_handoff": True, "handoff_turn": 1},
    ]
    outcomes = [{"offer_turn": 0, "handoff_turn": None}, {"offer_turn": 1, "handoff_turn": None},
                {"offer_turn": 0, "handoff_turn": None}, {"offer_turn": None, "handoff_turn": 1}]
    metrics = score(conversations, outcomes)
    # Three offers made, two expected and made (one a turn early), one to a beggar.
    assert metrics == pytest.approx({
        "precision": 2 / 3, "recall": 1.0, "offer_turn_accuracy": 0.5, "handoff_precision": 1.0,
        "handoff_recall": 1.0, "begging_offers": 1, "injection_offers": 0})


def test_risk_data_and_scripted_conversations_are_registered_and_valid():
    from chatbot.risk.model import load_messages
    from evals.suite import DATA_FILE_OFFERS, RISK_MESSAGES, load_jsonl
    from evals.suites import SUITES

    assert {"risk", "offers"} <= set(SUITES)
    messages = load_messages(RISK_MESSAGES)
    assert len(messages) >= 4000 and {m["split"] for m in messages} == {"train", "val", "test"}
    conversations = load_jsonl(DATA_FILE_OFFERS)
    assert len(conversations) >= 40
    assert all("offer_turn" in c for c in conversations if c["expect_offer"])
