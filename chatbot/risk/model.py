"""The trained part of risk scoring: logistic regressions over sentence embeddings and the
lexicon's features, learned from the `train` split of the labeled messages CHATBOT_RISK_DATA names
(evals/data/risk/messages.jsonl by default).

Three models are fitted on the same split so the risk eval can show what each side earns:
the classifier (embeddings only), the lexicon (VADER and cue hits only) and the combination
(both), which is the one the desk uses. Each picks its regularisation and decision threshold
by cross-validation grouped by base message, so no test line and no paraphrase of a
validation line is seen while choosing.

Training takes about a minute on a laptop CPU (embedding 1,400 messages); the result is a
few kilobytes of weights cached as .npz in the model cache, so loading at service start is
instant and needs no scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chatbot.risk.lexicon import Lexicon

# Bump when the training procedure changes, so cached models are retrained.
TRAINING_VERSION = "1"
C_GRID = (1.0, 3.0, 10.0)
FOLDS = 5


@dataclass(frozen=True)
class LinearModel:
    """A fitted logistic regression: P(at risk) = sigmoid(x . weights + bias)."""

    weights: np.ndarray
    bias: float
    threshold: float  # the decision threshold that maximised grouped-CV F1 on train
    c: float  # the chosen inverse regularisation strength, for the report

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))


@dataclass(frozen=True)
class RiskModel:
    combined: LinearModel  # embeddings + lexicon features: what the desk uses
    classifier: LinearModel  # embeddings only
    lexicon: LinearModel  # lexicon features only
    key: str  # fingerprint of data, cues, embedding model and training code

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {}
        for name in ("combined", "classifier", "lexicon"):
            part: LinearModel = getattr(self, name)
            arrays[f"{name}_w"] = part.weights
            arrays[f"{name}_meta"] = np.array([part.bias, part.threshold, part.c])
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, key=np.array(self.key), **arrays)
        tmp.replace(path)  # never leave a half-written model behind

    @classmethod
    def load(cls, path: Path) -> RiskModel:
        with np.load(path) as data:
            parts = {
                name: LinearModel(
                    data[f"{name}_w"].astype(np.float32), *map(float, data[f"{name}_meta"])
                )
                for name in ("combined", "classifier", "lexicon")
            }
            return cls(key=str(data["key"]), **parts)


def load_messages(path: Path) -> list[dict]:
    """The labeled shopper messages (see evals/data/risk/README.md)."""
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def model_key(lexicon: Lexicon, embedding_model: str, data_file: Path) -> str:
    digest = hashlib.sha256(data_file.read_bytes())
    digest.update(f"|{lexicon.fingerprint}|{embedding_model}|{TRAINING_VERSION}".encode())
    return digest.hexdigest()[:16]


def model_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / "risk" / f"risk-{key}.npz"


def load_or_train(
    cache_dir: Path, lexicon: Lexicon, embedder, data_file: Path, *, progress: bool = True
) -> RiskModel:
    """The cached model for these data, cues and embedder; trained and cached if missing."""
    key = model_key(lexicon, embedder.model_id, data_file)
    path = model_path(cache_dir, key)
    if path.exists():
        model = RiskModel.load(path)
        # A model cached before the feature code changed would silently mis-score; retrain.
        if model.combined.weights.shape[0] == embedder.dim + lexicon.features(["x"]).shape[1]:
            return model
    rows = [row for row in load_messages(data_file) if row["split"] == "train"]
    texts = [row["text"] for row in rows]
    if progress:
        # stderr: stdout belongs to the command's own output (`ask --json` prints JSON there).
        print(f"risk model: training on {len(rows)} labeled messages (cached in {path.parent})",
              file=sys.stderr)
    embeddings = embedder.embed(texts, progress=progress)
    model = train(
        embeddings,
        lexicon.features(texts),
        np.array([row["at_risk"] for row in rows]),
        np.array([row["base"] for row in rows]),
        key,
    )
    model.save(path)
    return model


def train(
    embeddings: np.ndarray, lexical: np.ndarray, labels: np.ndarray, groups: np.ndarray, key: str
) -> RiskModel:
    """Fit the three models on training rows only."""
    return RiskModel(
        combined=fit(np.hstack([embeddings, lexical]), labels, groups),
        classifier=fit(embeddings, labels, groups),
        lexicon=fit(lexical, labels, groups),
        key=key,
    )


def fit(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> LinearModel:
    """Choose C and the threshold by grouped cross-validation, then refit on all rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import GroupKFold, cross_val_predict

    def make(c: float):
        # Balanced weights: about a third of messages are at risk, and missing one costs more
        # than a needless check.
        return LogisticRegression(C=c, max_iter=5000, class_weight="balanced")

    thresholds = np.round(np.arange(0.2, 0.81, 0.025), 3)
    best = (-1.0, C_GRID[0], 0.5)
    for c in C_GRID:
        held_out = cross_val_predict(
            make(c), x, y, groups=groups, cv=GroupKFold(FOLDS), method="predict_proba"
        )[:, 1]
        for threshold in thresholds:
            score = f1_score(y, held_out >= threshold)
            if score > best[0] + 1e-9:
                best = (score, c, float(threshold))
    _, c, threshold = best
    fitted = make(c).fit(x, y)
    return LinearModel(
        fitted.coef_[0].astype(np.float32), float(fitted.intercept_[0]), threshold, c
    )
