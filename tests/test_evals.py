"""The eval harness: metrics on hand-worked examples, and the report it writes."""

import json

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

    def row(kind, answer, cited=(), facts=0, grounded=0, guardrail=None):
        return {"kind": kind, "answer": answer, "key_fact": "30 days", "expected": ["policies/returns"],
                "cited": list(cited), "refused": is_refusal(answer), "guardrail": guardrail,
                "facts": facts, "grounded_facts": grounded}

    rows = [
        row("policy", "You have 30 days [1].", ["policies/returns"], 1, 1),
        row("policy", "You have 45 days.", [], 1, 0, "fallback"),
        row("faq", HANDOFF_REPLY, guardrail="handoff"),
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


def test_answer_and_latency_suites_are_registered():
    from evals.suites import SUITES

    assert {"retrieval", "answers", "latency"} <= set(SUITES)
