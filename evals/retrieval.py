"""Retrieval suite: does the evidence for each dev question contain the document that
answers it? Document-level recall@1, recall@5 and MRR over the answerable questions.

    python -m evals run --suite retrieval
"""

from __future__ import annotations

from chatbot.settings import get_settings
from evals.suite import SuiteResult, dev_questions


def ranked_documents(question: dict, retriever, sessions, k: int = 10) -> list[str]:
    """Document ids in the order the pipeline would number them as evidence."""
    from knowledge.orders import order_evidence

    evidence = order_evidence(sessions, question.get("customer_id"), question["question"])
    evidence += retriever.evidence(question["question"], k)
    ranked: list[str] = []
    for item in evidence:
        if item.doc_id not in ranked:
            ranked.append(item.doc_id)
    return ranked


def score(questions: list[dict], rank) -> tuple[dict[str, float], list[dict]]:
    """recall@1, recall@5 and MRR of rank(question) -> [doc_id] against the labels."""
    details, hits1, hits5, reciprocal = [], 0, 0, 0.0
    for q in questions:
        ranked = rank(q)
        position = next((i for i, d in enumerate(ranked) if d in q["doc_ids"]), None)
        hits1 += position == 0
        hits5 += position is not None and position < 5
        reciprocal += 0 if position is None else 1 / (position + 1)
        details.append({"id": q["id"], "question": q["question"], "expected": q["doc_ids"],
                        "got": ranked[:5], "position": position})
    n = max(1, len(questions))
    return {"recall@1": hits1 / n, "recall@5": hits5 / n, "mrr": reciprocal / n}, details


def retrieval_suite() -> SuiteResult:
    """Document recall@1/@5 and MRR of the evidence step on the dev questions."""
    from chatbot.store.db import make_engine, session_factory
    from knowledge.embed import Embedder
    from knowledge.index import Index
    from knowledge.retrieval import Retriever

    settings = get_settings()
    retriever = Retriever(Index.load(settings.index_dir), Embedder(settings.embedding_model))
    sessions = session_factory(make_engine(settings.database_url))
    questions = [q for q in dev_questions() if q["doc_ids"]]
    metrics, details = score(questions, lambda q: ranked_documents(q, retriever, sessions))
    rows = [{"method": "dense", "questions": len(questions), **metrics}]
    by_kind = {}
    for q, d in zip(questions, details):
        by_kind.setdefault(q["kind"], []).append(d["position"] is not None and d["position"] < 5)
    notes = ["## recall@5 by question kind", ""] + [
        f"- {kind}: {sum(v) / len(v):.3f} ({len(v)} questions)" for kind, v in sorted(by_kind.items())
    ]
    return SuiteResult("retrieval", metrics, rows, notes, details=details)
