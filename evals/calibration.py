"""Calibration suite: does each shop's own hand-off threshold make fewer mistakes than the demo's 0.5?

    python -m evals run --suite calibration

For the demo shop and Kettle & Leaf (evals/data/second_shop/, a tea shop whose 162 questions
were written by hand for this project), setup's calibration (knowledge/calibration.py) picks a
threshold from questions it makes from the shop's own documents. This suite scores that
threshold, and the default, on the hand-written labelled questions, which the calibration
never sees: the share of answerable questions (policy, FAQ, product, SKU) whose best evidence
falls below the threshold (refused although the documents answer them), and the share of
unanswerable ones whose best evidence reaches it (answered although they do not). Retrieval
only, no generation: the threshold decides before the model runs.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from evals.suite import DATA_DIR, SuiteResult, dev_questions, load_jsonl  # noqa: E402

ANSWERABLE = ("policy", "faq", "product", "sku")


def calibration_suite() -> SuiteResult:
    from evals.second_shop import second_shop_index
    from knowledge.calibration import best_relevance, calibrate, error_rates
    from knowledge.embed import Embedder
    from knowledge.index import Index
    from knowledge.retrieval import Retriever
    from shopcore.settings import get_settings

    settings = get_settings()
    embedder = Embedder(settings.embedding_model)
    shops = {"Ridgeline Outfitters (demo)": (settings.index_dir, dev_questions()),
             "Kettle & Leaf": (second_shop_index(settings, embedder), load_jsonl(DATA_DIR / "second_shop" / "questions.jsonl"))}
    rows, metrics, notes = [], {}, []
    figure, axes = plt.subplots(1, len(shops), figsize=(11, 4), sharey=True)
    for (shop, (index_dir, questions)), axis in zip(shops.items(), axes):
        retriever = Retriever(Index.load(index_dir), embedder)
        calibration = calibrate(retriever, settings.top_k)
        answerable = best_relevance(retriever, [q["question"] for q in questions if q["kind"] in ANSWERABLE],
                                    settings.top_k, f"{shop}: answerable")
        unanswerable = best_relevance(retriever, [q["question"] for q in questions if q["kind"] == "unanswerable"],
                                      settings.top_k, f"{shop}: unanswerable")
        key = "demo" if "demo" in shop else "second_shop"
        for label, threshold in (("default", calibration.default), ("calibrated", calibration.threshold)):
            rates = error_rates(answerable, unanswerable, threshold)
            rows.append({"shop": shop, "threshold": f"{label} {threshold:.3f}",
                         "answerable_refused": round(rates["answerable_refused"], 3),
                         "unanswerable_answered": round(rates["unanswerable_answered"], 3),
                         "balanced_error": round(sum(rates.values()) / 2, 3)})
            metrics |= {f"{key}_{label}_{name}": value for name, value in rates.items()}
        metrics[f"{key}_threshold"] = calibration.threshold
        notes.append(f"- {shop}: " + "; ".join(calibration.lines()) + f" (generated questions); labelled: "
                     f"{len(answerable)} answerable, {len(unanswerable)} unanswerable")
        _plot(axis, shop, answerable, unanswerable, calibration.default, calibration.threshold)
    figure.tight_layout()
    notes = ["Error rates on the hand-written labelled questions at the default threshold and at the one "
             "calibrated on generated questions (the labels are never used to calibrate).", ""] + notes
    return SuiteResult("calibration", metrics, rows, notes, {"calibration": figure})


def _plot(axis, shop: str, answerable: list[float], unanswerable: list[float], default: float,
          calibrated: float) -> None:
    from knowledge.calibration import error_rates

    grid = [i / 100 for i in range(5, 96)]
    curves = [error_rates(answerable, unanswerable, t) for t in grid]
    axis.plot(grid, [c["answerable_refused"] for c in curves], label="answerable refused")
    axis.plot(grid, [c["unanswerable_answered"] for c in curves], label="unanswerable answered")
    axis.axvline(default, color="grey", linestyle=":", label=f"default {default:.2f}")
    axis.axvline(calibrated, color="black", linestyle="--", label=f"calibrated {calibrated:.2f}")
    axis.set_title(shop, fontsize=10)
    axis.set_xlabel("hand-off threshold (best evidence relevance)")
    axis.set_ylabel("share of labelled questions")
    axis.legend(fontsize=8)
