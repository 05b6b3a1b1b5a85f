"""Risk suite: how well the desk tells an at-risk shopper message from the rest, on the frozen
`test` split of evals/data/risk/messages.jsonl and, apart, on the cross-check set
(evals/data/risk/crosscheck.jsonl, another register, never fitted on or tuned with).

    python -m evals run --suite risk

Rows: each signal alone (VADER, the lexicon, the embedding head, the judge's zero-shot
yes/no, the judge head), the two combinations (cheap; full with the judge) and the desk
itself (the cascade: cheap, and the judge only where cheap is unsure), on both sets. Every
threshold was chosen on the `val` split. The headline metrics (precision, recall, f1, roc_auc)
are the desk's on the test split; crosscheck_* are the desk's on the cross-check set and
vader_* VADER's alone on the same rows. Plots: ROC curves and the desk's confusion matrices.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from evals.suite import DATA_DIR, SuiteResult, load_jsonl
from shopcore.settings import get_settings

CROSSCHECK = DATA_DIR / "risk" / "crosscheck.jsonl"
TIMED = 60  # messages scored one by one through the desk's scorer for the latency figures
TAGS = ("quiet", "sarcasm", "praise_loud", "third_party", "mixed", "mild", "negation", "angry",
        "churn", "escalation", "typo", "emoji", "caps", "es", "de", "fr")
BARS = {  # issue 34's bars
    "f1": 0.88, "roc_auc": 0.95, "crosscheck_f1": 0.80, "crosscheck_roc_auc": 0.90,
}


def classification_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    """precision, recall, f1 at threshold, and roc_auc, for the positive class."""
    from sklearn.metrics import precision_recall_fscore_support, roc_auc_score

    predicted = scores >= threshold
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predicted, average="binary", zero_division=0
    )
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "roc_auc": float(roc_auc_score(labels, scores)),
    }


def risk_suite() -> SuiteResult:
    """At-risk precision, recall, F1, ROC-AUC of every signal and the desk, test and cross-check."""
    from chatbot.risk.judge import KeptReadings, judge_key
    from chatbot.risk.model import load_messages
    from chatbot.risk.scoring import RiskScorer
    from knowledge.embed import Embedder

    settings = get_settings()
    embedder = Embedder(settings.embedding_model)
    scorer = RiskScorer.build(settings, embedder)
    kept = KeptReadings(settings.risk_data.parent, judge_key(settings.model))
    sets = {
        "test": [row for row in load_messages(settings.risk_data) if row["split"] == "test"],
        "cross-check": load_jsonl(CROSSCHECK),
    }
    signals, rows = {}, []
    for name, data in sets.items():
        texts = [row["text"] for row in data]
        signals[name] = _signals(scorer, kept, texts, embedder.embed(texts, progress=True))
        signals[name + " probability"] = signals[name].pop("probabilities")
        labels = np.array([row["at_risk"] for row in data])
        for method, (scores, threshold, _) in signals[name].items():
            probability = signals[name + " probability"].get(method)
            rows.append({"set": name, "method": method, "messages": len(data),
                         "threshold": round(float(threshold), 3),
                         **classification_metrics(labels, scores, threshold),
                         # Calibration: mean squared error of the probability (lower is better).
                         "brier": None if probability is None else
                         round(float(np.mean((probability - labels) ** 2)), 4)})
    desk = {r["set"]: r for r in rows if r["method"] == "desk"}
    vader = {r["set"]: r for r in rows if r["method"] == "vader"}
    metrics = {key: desk["test"][key] for key in ("precision", "recall", "f1", "roc_auc")}
    for key in ("precision", "recall", "f1", "roc_auc"):
        metrics[f"crosscheck_{key}"] = desk["cross-check"][key]
    for key in ("f1", "roc_auc"):
        metrics[f"vader_{key}"] = vader["test"][key]
        metrics[f"crosscheck_vader_{key}"] = vader["cross-check"][key]
    metrics["brier"], metrics["crosscheck_brier"] = desk["test"]["brier"], desk["cross-check"]["brier"]
    metrics["judge_share"] = float(np.mean(signals["test"]["desk"][2]))
    metrics["crosscheck_judge_share"] = float(np.mean(signals["cross-check"]["desk"][2]))
    timing = _latency(scorer, [row["text"] for row in sets["test"]][:TIMED])
    metrics.update(timing)
    notes = _notes(scorer, sets, signals, metrics, timing)
    test_desk = signals["test"]["desk"]
    details = [
        {"id": row["id"], "text": row["text"], "at_risk": bool(row["at_risk"]), "p": round(float(p), 3),
         "asked_judge": bool(asked)}
        for row, p, asked in zip(sets["test"], test_desk[0], test_desk[2])
        if (p >= test_desk[1]) != row["at_risk"]
    ]
    plots = {"roc": _roc_plot(sets, signals), "confusion": _confusion_plot(sets, signals)}
    return SuiteResult("risk", metrics, rows, notes, plots, details)


def _signals(scorer, kept, texts: list[str], embeddings: np.ndarray) -> dict:
    """method -> (scores, threshold, asked-the-judge mask) for every signal on these texts."""
    model, lexical = scorer.model, scorer.lexicon.features(texts)
    none = np.zeros(len(texts), bool)
    out = {
        "vader": (-lexical[:, 3], model.vader_threshold, none),
        "lexicon": (model.lexicon.probability(lexical), model.lexicon.threshold, none),
        "embedding head": (model.embedding.probability(embeddings), model.embedding.threshold, none),
    }
    cheap = model.cheap.probability(model.cheap_inputs(embeddings, lexical))
    reading = None
    if model.full is not None:
        # Kept readings where there are (the judge's own numbers, computed once); the judge
        # itself for the rest, when it is loaded.
        reading = kept.get(texts)
        if reading is None and scorer.judge is not None:
            reading = scorer.judge.read(texts, progress=True)
    if reading is not None:
        full = model.full.probability(model.full_inputs(embeddings, lexical, reading.zero_shot, reading.hidden))
        out["judge zero-shot"] = (reading.zero_shot, model.zero_shot_threshold, none)
        out["judge head"] = (model.judge.probability(reading.hidden), model.judge.threshold, none)
    out["cheap combination"] = (cheap, model.cheap.threshold, none)
    if reading is not None:
        out["full combination"] = (full, model.full.threshold, none)
        asked = model.needs_judge(cheap)
        # The desk's decision, per message, from whichever combination scored it.
        desk = np.where(asked, full, cheap)
        decided = np.where(asked, full >= model.full.threshold, cheap >= model.cheap.threshold)
        # One threshold for the metrics: the scores are moved so that >= 0.5 is the decision,
        # keeping each combination's ordering within its own messages.
        out["desk"] = (_as_decided(desk, decided), 0.5, asked)
    else:
        desk = cheap
        out["desk"] = (cheap, model.cheap.threshold, none)
    # The scores that are probabilities (VADER's and the zero-shot logit are not), for calibration.
    out["probabilities"] = {
        method: scores for method, (scores, _, _) in out.items()
        if method not in ("vader", "judge zero-shot", "desk")
    } | {"desk": desk}
    return out


def _as_decided(scores: np.ndarray, decided: np.ndarray) -> np.ndarray:
    # ROC-AUC needs one score per message; the cascade's scores come from two models with
    # their own thresholds, so each message's score is kept and nudged to the side of 0.5 its
    # own model decided. The ranking inside each side is the models' own.
    return np.where(decided, 0.5 + scores / 2, scores / 2)


def _latency(scorer, texts: list[str]) -> dict:
    """Per-message scoring time through the desk's own call, judge cache emptied first."""
    if scorer.judge is not None:
        scorer.judge._cache.clear()
        scorer.judge.read(["warm-up message"])  # the cached prompt prefix is built once per process
    timings, asked = [], []
    for text in texts:
        started = time.perf_counter()
        scorer.score_message(text)
        timings.append((time.perf_counter() - started) * 1000)
        if scorer.judge is not None:
            asked.append(text in scorer.judge._cache)
    out = {"score_ms_p50": statistics.median(timings),
           "score_ms_p95": float(np.percentile(timings, 95))}
    judged = [t for t, a in zip(timings, asked) if a]
    cheap = [t for t, a in zip(timings, asked or [False] * len(timings)) if not a]
    if cheap:
        out["score_ms_p50_cheap"] = statistics.median(cheap)
    if judged:
        out["score_ms_p50_with_judge"] = statistics.median(judged)
    return out


def _notes(scorer, sets, signals, metrics, timing) -> list[str]:
    model = scorer.model
    lines = [
        "Every part was fitted on the train split only; every threshold (medium, high) and the "
        "judge band were chosen on the val split. The test split was fixed and fingerprinted "
        "(evals/data/risk/test_split.sha256) before any model of issue 34 was trained; the "
        "cross-check set was written before any model output was seen and is used for nothing "
        "but this report.",
        "",
        f"Judge band (cheap score where the desk asks the language model): "
        f"{model.band[0]:.3f}-{model.band[1]:.3f}; the judge was asked for "
        f"{metrics['judge_share']:.0%} of test and {metrics['crosscheck_judge_share']:.0%} of "
        "cross-check messages." if model.full is not None else
        "The judge's readings are not kept for this model: the desk scores with the cheap "
        "combination alone.",
        "",
        *_judge_note(sets, signals),
        "## Bars (issue 34)",
        "",
        "| metric | bar | desk | VADER alone |",
        "|---|---|---|---|",
    ]
    for key, bar in BARS.items():
        vader_key = key.replace("crosscheck_", "crosscheck_vader_") if "crosscheck" in key else f"vader_{key}"
        mark = "met" if metrics[key] >= bar else "NOT met"
        lines.append(f"| {key} | {bar} | {metrics[key]:.3f} ({mark}) | {metrics[vader_key]:.3f} |")
    lines += ["", *_by_source(sets["test"], signals["test"]), "", *_by_tag(sets["test"], signals["test"]), ""]
    lines.append(
        f"Scoring one message through the desk's scorer (embedding, lexicon, cheap combination, "
        f"and the judge when unsure; judge cache emptied) took a median "
        f"{timing['score_ms_p50']:.1f} ms (p95 {timing['score_ms_p95']:.0f} ms) over {TIMED} test "
        "messages on this machine (2 shared CPU cores)"
        + (f"; {timing['score_ms_p50_cheap']:.1f} ms without the judge" if "score_ms_p50_cheap" in timing else "")
        + (f", {timing['score_ms_p50_with_judge']:.0f} ms with it" if "score_ms_p50_with_judge" in timing else "")
        + "."
    )
    return lines


def _judge_note(sets: dict, signals: dict) -> list[str]:
    """What the zero-shot answer is worth, from this run's numbers."""
    if "judge zero-shot" not in signals["test"]:
        return []
    from sklearn.metrics import roc_auc_score

    auc = {name: roc_auc_score([row["at_risk"] for row in sets[name]], signals[name]["judge zero-shot"][0])
           for name in ("test", "cross-check")}
    if min(auc.values()) >= 0.5:
        return []
    return [
        f"The judge's zero-shot yes/no logit ranks messages the wrong way round (ROC-AUC "
        f"{auc['test']:.2f} test, {auc['cross-check']:.2f} cross-check): the 0.5B Coder model says "
        "\"yes\" to the question more readily for calm questions than for angry ones. The full "
        "combination gives it a learned weight like any other input; the model's reading of the "
        "message is in its hidden state, which the judge head reads (its rows in the table "
        "above).",
        "",
    ]


def _by_source(rows: list[dict], signals: dict) -> list[str]:
    """The test split by where its lines came from: v1 (the cue author's) and v2 (issue 34)."""
    labels = np.array([r["at_risk"] for r in rows])
    lines = ["## Test split by source", "", "| source | messages | method | f1 | roc_auc |", "|---|---|---|---|---|"]
    for source in ("v1", "v2"):
        index = np.array([r.get("source", "v1") == source for r in rows])
        for method in ("vader", "desk"):
            scores, threshold, _ = signals[method]
            m = classification_metrics(labels[index], scores[index], threshold)
            lines.append(f"| {source} | {int(index.sum())} | {method} | {m['f1']:.3f} | {m['roc_auc']:.3f} |")
    return lines


def _by_tag(rows: list[dict], signals: dict) -> list[str]:
    labels = np.array([r["at_risk"] for r in rows])
    scores, threshold, _ = signals["desk"]
    predicted = scores >= threshold
    lines = ["## The desk by tag (test split)", "",
             "| tag | messages | at risk | recall | false alarms |", "|---|---|---|---|---|"]
    for tag in TAGS:
        index = [i for i, row in enumerate(rows) if tag in row["tags"]]
        if not index:
            continue
        positives = [i for i in index if labels[i]]
        negatives = [i for i in index if not labels[i]]
        recall = f"{np.mean(predicted[positives]):.2f}" if positives else "-"
        lines.append(f"| {tag} | {len(index)} | {len(positives)} | {recall} | "
                     f"{int(np.sum(predicted[negatives]))}/{len(negatives)} |")
    return lines


def _roc_plot(sets: dict, signals: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import RocCurveDisplay

    figure, axes = plt.subplots(1, len(sets), figsize=(6 * len(sets), 5))
    for axis, (name, data) in zip(axes, sets.items()):
        labels = np.array([row["at_risk"] for row in data])
        for method, (scores, _, _) in signals[name].items():
            RocCurveDisplay.from_predictions(labels, scores, name=method, ax=axis)
        axis.set_title(f"ROC, {name} ({len(data)} messages)")
        axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def _confusion_plot(sets: dict, signals: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    figure, axes = plt.subplots(1, len(sets), figsize=(4.2 * len(sets), 3.8))
    for axis, (name, data) in zip(axes, sets.items()):
        scores, threshold, _ = signals[name]["desk"]
        ConfusionMatrixDisplay.from_predictions(
            [row["at_risk"] for row in data], scores >= threshold,
            display_labels=["not at risk", "at risk"], ax=axis, colorbar=False, cmap="Blues",
        )
        axis.set_title(f"desk, {name}")
    figure.tight_layout()
    return figure
