"""Retrieval suite: does the evidence for each dev question contain the document that
answers it, and does the evidence's relevance tell answerable questions from the rest?

    python -m evals run --suite retrieval

Rows: document-level recall@1, recall@5 and MRR of the evidence step over the answerable
questions for dense-only, keyword-only and hybrid search (and, for comparison, the two
sides fused by reciprocal rank instead of relevance). The signed-in shopper's own orders
come first, as in the pipeline. Coverage: `knowledge.retrieval.covers` on every question
(answerable against unanswerable and hand-off), with ROC-AUC of the best evidence score,
and a 5-fold cross-validated refit of the relevance weights to show they are not tuned to
the last question.
"""

from __future__ import annotations

from evals.report import table as report_table
from evals.suite import SuiteResult, dev_questions
from shopcore.settings import get_settings

RRF_K = 60
RANKED = 10  # evidence items ranked per question


def score(questions: list[dict], rank) -> tuple[dict[str, float], list[dict]]:
    """recall@1, recall@5 and MRR of rank(question) -> [doc_id] against the labels."""
    details, hits1, hits5, reciprocal = [], 0, 0, 0.0
    for q in questions:
        ranked = rank(q)
        position = next((i for i, d in enumerate(ranked) if d in q["doc_ids"]), None)
        hits1 += position == 0
        hits5 += position is not None and position < 5
        reciprocal += 0 if position is None else 1 / (position + 1)
        details.append({"id": q["id"], "question": q["question"], "kind": q.get("kind"),
                        "expected": q["doc_ids"], "got": ranked[:5], "position": position})
    n = max(1, len(questions))
    return {"recall@1": hits1 / n, "recall@5": hits5 / n, "mrr": reciprocal / n}, details


def unique_documents(doc_ids) -> list[str]:
    return list(dict.fromkeys(doc_ids))


def reciprocal_rank_fusion(rankings: list[list[str]]) -> list[str]:
    """Items of several best-first rankings ordered by the sum of 1 / (RRF_K + rank)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            fused[item] = fused.get(item, 0.0) + 1 / (RRF_K + rank)
    return sorted(fused, key=lambda item: -fused[item])


def collect(questions, retriever, sessions) -> list[dict]:
    """Per question: own-order evidence, hybrid evidence and dense/keyword rankings."""
    from tqdm import tqdm

    from knowledge.orders import order_evidence

    vectors = retriever.embedder.embed([q["question"] for q in questions], progress=True)
    runs = []
    for q, vector in tqdm(list(zip(questions, vectors)), desc="retrieval", unit="q"):
        orders = order_evidence(sessions, q.get("customer_id"), q["question"], retriever.relevance)
        by_mode = {mode: retriever.search(q["question"], 40 if mode != "hybrid" else RANKED,
                                          mode=mode, query_vector=vector)
                   for mode in ("hybrid", "dense", "keyword")}
        runs.append({"question": q, "orders": orders, **by_mode})
    return runs


def rankings(run: dict) -> dict[str, list[str]]:
    """Document rankings per method, own orders first as the pipeline numbers them."""
    orders = [e.doc_id for e in run["orders"]]
    docs = {mode: unique_documents(h.chunk.doc_id for h in run[mode]) for mode in ("hybrid", "dense", "keyword")}
    fused = reciprocal_rank_fusion([docs["dense"], docs["keyword"]])
    return {"dense": unique_documents(orders + docs["dense"]),
            "keyword": unique_documents(orders + docs["keyword"]),
            "hybrid": unique_documents(orders + docs["hybrid"]),
            "hybrid (RRF)": unique_documents(orders + fused)}


def coverage_data(runs: list[dict], top_k: int):
    """(labels, best scores, covered, top-hit features) over all questions."""
    from knowledge.retrieval import covers

    labels, best, covered, features = [], [], [], []
    for run in runs:
        evidence = run["orders"] + [_evidence(h) for h in run["hybrid"][:top_k]]
        labels.append(int(bool(run["question"]["doc_ids"])))
        best.append(max((e.score for e in evidence), default=0.0))
        covered.append(covers(evidence))
        top = run["hybrid"][0] if run["hybrid"] else None
        named = any(e.score >= 1.0 for e in run["orders"])
        features.append((1.0, 1.0) if named else (top.similarity, top.coverage) if top else (0.0, 0.0))
    return labels, best, covered, features


def _evidence(hit):
    from shopcore.schemas import Evidence

    return Evidence(hit.chunk.doc_id, hit.chunk.heading, hit.chunk.text, hit.score)


def coverage_metrics(labels, best, covered, features) -> tuple[dict[str, float], list[str], object]:
    """ROC-AUC and accuracy of the coverage decision, and a cross-validated refit."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y, covered = np.array(labels), np.array(covered)
    model = LogisticRegression(C=10, class_weight="balanced")
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    refit = cross_val_predict(model, np.array(features), y, cv=folds, method="predict_proba")[:, 1]
    fitted = model.fit(np.array(features), y)
    metrics = {
        "coverage_roc_auc": float(roc_auc_score(y, best)),
        "coverage_accuracy": float((covered == y).mean()),
        "answerable_covered": float(covered[y == 1].mean()),
        "unanswerable_refused": float((~covered[y == 0]).mean()),
        "coverage_cv_roc_auc": float(roc_auc_score(y, refit)),
        "coverage_cv_accuracy": float(((refit >= 0.5) == y).mean()),
    }
    weights = (float(fitted.intercept_[0]), *map(float, fitted.coef_[0]))
    notes = ["Best evidence relevance against the threshold a caller might choose "
             "(knowledge.retrieval.COVERAGE_THRESHOLD is the shipped one):", "",
             "| threshold | answerable covered | unanswerable refused |", "|---|---|---|"]
    scores = np.array(best)
    notes += [f"| {t:.1f} | {(scores[y == 1] >= t).mean():.3f} | {(scores[y == 0] < t).mean():.3f} |"
              for t in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)]
    notes += ["", f"Relevance weights refitted on all {len(y)} questions (bias, similarity, coverage): "
             f"({weights[0]:.2f}, {weights[1]:.2f}, {weights[2]:.2f}); "
             "knowledge.retrieval.RELEVANCE_WEIGHTS holds the shipped ones."]
    return metrics, notes, _roc_figure(y, best)


def _roc_figure(y, best):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.metrics import roc_curve

    from knowledge.retrieval import COVERAGE_THRESHOLD

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    fpr, tpr, _ = roc_curve(y, best)
    left.plot(fpr, tpr)
    left.plot([0, 1], [0, 1], linestyle=":", color="grey")
    left.set(xlabel="unanswerable judged covered", ylabel="answerable judged covered",
             title="coverage decision (ROC)")
    best = np.array(best)
    bins = np.linspace(0, 1, 21)
    right.hist(best[np.array(y) == 1], bins=bins, alpha=0.6, label="answerable")
    right.hist(best[np.array(y) == 0], bins=bins, alpha=0.6, label="unanswerable / hand-off")
    right.axvline(COVERAGE_THRESHOLD, color="black", linestyle="--", label="threshold")
    right.set(xlabel="best evidence relevance", ylabel="questions", title="relevance by label")
    right.legend()
    return figure


def _methods_figure(rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3.5))
    names = [r["method"] for r in rows]
    width = 0.25
    for n, metric in enumerate(("recall@1", "recall@5", "mrr")):
        axis.bar([i + n * width for i in range(len(rows))], [r[metric] for r in rows], width, label=metric)
    axis.set_xticks([i + width for i in range(len(rows))], names)
    axis.set(ylim=(0, 1), title="dev set, answerable questions")
    axis.legend(loc="lower right")
    return figure


def retrieval_suite() -> SuiteResult:
    """Recall@1/@5 and MRR per retrieval method, and how well relevance separates coverage."""
    from shopcore.store.db import make_engine, session_factory
    from knowledge.embed import Embedder
    from knowledge.index import Index
    from knowledge.retrieval import Retriever

    settings = get_settings()
    retriever = Retriever(Index.load(settings.index_dir), Embedder(settings.embedding_model))
    sessions = session_factory(make_engine(settings.database_url))
    questions = dev_questions()
    runs = collect(questions, retriever, sessions)
    answerable = [(q, run) for q, run in zip(questions, runs) if q["doc_ids"]]
    ranked = {q["id"]: rankings(run) for q, run in answerable}
    rows, details = [], []
    for method in ("dense", "keyword", "hybrid", "hybrid (RRF)"):
        metrics, per_question = score([q for q, _ in answerable], lambda q: ranked[q["id"]][method])
        rows.append({"method": method, "questions": len(answerable), **metrics})
        details += [{"method": method, **d} for d in per_question]
    coverage, notes, roc = coverage_metrics(*coverage_data(runs, settings.top_k))
    hybrid = next(r for r in rows if r["method"] == "hybrid")
    metrics = {k: hybrid[k] for k in ("recall@1", "recall@5", "mrr")} | coverage
    notes = _by_kind(details) + ["", "## Coverage", ""] + notes
    embedders = compare_embedders(settings, retriever, questions, sessions)
    if len(embedders) > 1:
        notes += ["", "## Embedders compared in this run", "",
                  f"`{EMBEDDERS_VARIABLE}` names the others (catalog names pulled with `python -m chatbot models "
                  "pull`, or sentence-transformers folders); each gets its own index of the same documents. "
                  "Query time: embedding one question and a hybrid search, median over "
                  f"{LATENCY_QUESTIONS} questions one at a time. The relevance weights were fitted with the "
                  "default embedder.", "", report_table(embedders)]
    return SuiteResult("retrieval", metrics, rows, notes,
                       plots={"methods": _methods_figure(rows), "coverage": roc}, details=details)


EMBEDDERS_VARIABLE = "EVALS_EMBEDDERS"
LATENCY_QUESTIONS = 50


def compare_embedders(settings, retriever, questions, sessions) -> list[dict]:
    """The configured embedder and each one EVALS_EMBEDDERS names, on the same questions:
    dense and hybrid recall@1, recall@5, MRR, index build time and query time."""
    import os
    import statistics
    import time

    from knowledge.build import build_index
    from knowledge.embed import Embedder
    from knowledge.index import Index
    from knowledge.retrieval import Retriever

    others = [e.strip() for e in os.environ.get(EMBEDDERS_VARIABLE, "").split(",") if e.strip()]
    answerable = [q for q in questions if q["doc_ids"]]
    rows = []
    for name in [settings.embedding_model] + [e for e in others if e != settings.embedding_model]:
        build_s = None
        if name != settings.embedding_model:
            embedder = Embedder(name)
            folder = settings.home / "evals" / f"index-{name.replace('/', '--')}"
            report = build_index(settings.docs_dirs, folder, embedder, sessions, exact_max=settings.exact_index_max_chunks)
            build_s = report.seconds if report.added or report.updated else None
            candidate = Retriever(Index.load(folder), embedder)
        else:
            candidate = retriever
        ranked = {q["id"]: rankings(run) for q, run in zip(answerable, collect(answerable, candidate, sessions))}
        timings = []
        for q in answerable[:LATENCY_QUESTIONS]:
            started = time.perf_counter()
            candidate.search(q["question"], RANKED)
            timings.append((time.perf_counter() - started) * 1000)
        row = {"embedder": name, "dimensions": candidate.embedder.dim}
        for method in ("dense", "hybrid"):
            metrics, _ = score(answerable, lambda q: ranked[q["id"]][method])
            row |= {f"{method} {k}": v for k, v in metrics.items()}
        rows.append(row | {"query_ms_p50": statistics.median(timings),
                           "index_build_s": "-" if build_s is None else round(build_s, 1)})
    return rows


def _by_kind(details: list[dict]) -> list[str]:
    table: dict[str, dict[str, list[bool]]] = {}
    for d in details:
        table.setdefault(d["kind"], {}).setdefault(d["method"], []).append(
            d["position"] is not None and d["position"] < 5)
    methods = list(dict.fromkeys(d["method"] for d in details))
    lines = ["## recall@5 by question kind", "", "| kind | questions | " + " | ".join(methods) + " |",
             "|---|---|" + "---|" * len(methods)]
    for kind, by_method in sorted(table.items()):
        cells = " | ".join(f"{sum(v) / len(v):.3f}" for v in by_method.values())
        lines.append(f"| {kind} | {len(next(iter(by_method.values())))} | {cells} |")
    return lines
