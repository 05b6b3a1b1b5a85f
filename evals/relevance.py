"""Relevance suite: the weights of knowledge.retrieval's relevance, fitted and checked on a
shop they were not fitted on.

    python -m evals run --suite relevance

Relevance = sigmoid(bias + w_similarity * cosine + w_coverage * term coverage) both ranks the
candidate chunks and decides whether the evidence covers a question. Here it is fitted where
the answer is: every candidate chunk (dense and keyword, as `Retriever.search` gathers them)
of every answerable demo dev question is labelled by whether it holds the question's key
fact, and a logistic regression with both classes weighted equally fits the two weights. The
bias is then set so that 0.5 is the threshold with the fewest coverage mistakes on the demo
dev questions (answerable against unanswerable and hand-off, each side weighted equally).

Both the shipped weights and the refit are scored on the demo shop (what they were fitted on)
and on Kettle & Leaf (evals/data/second_shop, never used to fit): fact@1 and fact@k (the top
chunk / one of the top `top_k` holds the key fact), doc@1 (the top chunk is from a right
document), the coverage decision's ROC-AUC and its balanced error at the best threshold and
at 0.5. Order questions are left out (the shopper's own orders answer them, not ranking), and
so are candidates holding an identifier the question names (they rank first by rule).
"""

from __future__ import annotations

import math
import re

import numpy as np

from evals.suite import DATA_DIR, SuiteResult, dev_questions, load_jsonl

POOL = 80  # candidates per question: every chunk either side proposes


def candidates(retriever, questions: list[dict]) -> list[dict]:
    """Per question: its candidates' (similarity, coverage, named, holds the fact, right doc)."""
    from tqdm import tqdm

    squash = lambda s: re.sub(r"\s+", " ", s).strip().lower()  # noqa: E731
    vectors = retriever.embedder.embed([q["question"] for q in questions])
    out = []
    for q, vector in tqdm(list(zip(questions, vectors)), desc="relevance", unit="q"):
        fact = squash(q.get("key_fact") or "")
        hits = retriever.search(q["question"], POOL, query_vector=vector)
        out.append({"question": q, "hits": [
            {"similarity": h.similarity, "coverage": h.coverage, "named": h.score == 1.0,
             "fact": bool(fact) and fact in squash(f"{h.chunk.heading}\n{h.chunk.text}"),
             "right": h.chunk.doc_id in q["doc_ids"]} for h in hits]})
    return out


def relevance(weights, hit: dict) -> float:
    """The hit's relevance under weights; a named record's is 1.0, as in `Retriever.search`."""
    from knowledge.retrieval import relevance_from

    return 1.0 if hit["named"] else relevance_from(hit["similarity"], hit["coverage"], weights)


def ranked(questions: list[dict]) -> list[dict]:
    """The answerable, non-order questions (what ranking decides)."""
    return [r for r in questions if r["question"]["doc_ids"] and r["question"].get("key_fact")
            and r["question"]["kind"] != "order"]


def fit(questions: list[dict]) -> tuple[float, float, float]:
    """Weights fitted on candidate chunks labelled by whether they hold the key fact; bias
    moved so that 0.5 is the best coverage threshold on these questions."""
    from sklearn.linear_model import LogisticRegression

    rows = [(h["similarity"], h["coverage"], h["fact"]) for r in ranked(questions) for h in r["hits"] if not h["named"]]
    x, y = np.array([r[:2] for r in rows]), np.array([r[2] for r in rows], dtype=int)
    model = LogisticRegression(class_weight="balanced", max_iter=1000).fit(x, y)
    weights = (float(model.intercept_[0]), *map(float, model.coef_[0]))
    best, _ = best_threshold(questions, weights)
    return (weights[0] - math.log(best / (1 - best)), weights[1], weights[2])


def best_relevances(questions: list[dict], weights) -> tuple[np.ndarray, np.ndarray]:
    """(labels: answerable, the best evidence's relevance) per question."""
    labels = np.array([bool(r["question"]["doc_ids"]) for r in questions])
    best = np.array([max((relevance(weights, h) for h in r["hits"]), default=0.0) for r in questions])
    return labels, best


def balanced_error(labels: np.ndarray, best: np.ndarray, threshold: float) -> float:
    """The coverage decision's mistakes at threshold, each side weighted equally (as calibration counts them)."""
    from knowledge.calibration import error_rates

    return sum(error_rates(list(best[labels]), list(best[~labels]), threshold).values()) / 2


def best_threshold(questions: list[dict], weights) -> tuple[float, float]:
    labels, best = best_relevances(questions, weights)
    return min(((t, balanced_error(labels, best, t)) for t in np.linspace(0.05, 0.95, 91)), key=lambda p: p[1])


def scores(questions: list[dict], weights, k: int) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    fact1 = fact_k = doc1 = 0
    answerable = ranked(questions)
    for r in answerable:
        order = sorted(r["hits"], key=lambda h: -relevance(weights, h))
        fact1 += bool(order) and order[0]["fact"]
        fact_k += any(h["fact"] for h in order[:k])
        doc1 += bool(order) and order[0]["right"]
    labels, best = best_relevances(questions, weights)
    threshold, error = best_threshold(questions, weights)
    n = max(1, len(answerable))
    return {"fact@1": fact1 / n, f"fact@{k}": fact_k / n, "doc@1": doc1 / n,
            "coverage_auc": float(roc_auc_score(labels, best)), "balanced_error_0.5": balanced_error(labels, best, 0.5),
            "best_threshold": float(threshold), "balanced_error_best": error}


def relevance_suite() -> SuiteResult:
    from evals.second_shop import second_shop_index
    from knowledge.embed import Embedder
    from knowledge.index import Index
    from knowledge.retrieval import RELEVANCE_WEIGHTS, Retriever
    from shopcore.settings import get_settings

    settings = get_settings()
    embedder = Embedder(settings.embedding_model)
    shops = {"demo (fitted on)": candidates(Retriever(Index.load(settings.index_dir), embedder), dev_questions()),
             "Kettle & Leaf (held out)": candidates(Retriever(Index.load(second_shop_index(settings, embedder)), embedder),
                                                    load_jsonl(DATA_DIR / "second_shop" / "questions.jsonl"))}
    refit = fit(shops["demo (fitted on)"])
    rows, metrics = [], {}
    for shop, questions in shops.items():
        for label, weights in (("shipped", RELEVANCE_WEIGHTS), ("refit", refit)):
            result = scores(questions, weights, settings.top_k)
            rows.append({"shop": shop, "weights": f"{label} ({', '.join(f'{w:.2f}' for w in weights)})",
                         **{m: round(v, 3) for m, v in result.items()}})
            key = "demo" if shop.startswith("demo") else "second_shop"
            metrics |= {f"{key}_{label}_{m}": v for m, v in result.items()}
    notes = [f"Weights as (bias, similarity, coverage). Refit on {len(ranked(shops['demo (fitted on)']))} answerable "
             f"demo questions' candidates; knowledge.retrieval.RELEVANCE_WEIGHTS holds the shipped ones. "
             f"k = {settings.top_k} (the evidence passages an answer gets)."]
    return SuiteResult("relevance", metrics, rows, notes)

