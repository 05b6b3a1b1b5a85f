"""The trained part of risk scoring, learned from the labeled messages CHATBOT_RISK_DATA names
(evals/data/risk/messages.jsonl by default; its README says how each part was made).

Signals, each a logistic regression fitted on the `train` split only:
- the embedding head: the sentence embedding (all-MiniLM-L6-v2) of the message;
- the judge head: the served language model's hidden state after reading the message and the
  question "is this shopper upset or about to stop buying?" (chatbot/risk/judge.py), when
  its readings of the labeled messages are kept for the configured model;
- the lexicon: VADER's scores, the cue file's groups, shouting and punctuation.
Two combinations stack them (the heads enter as out-of-fold logits, so the stack learns how
far to trust each head on messages it did not see):
- `cheap`: embedding head + lexicon, a few milliseconds a message;
- `full`: cheap + judge head + the judge's zero-shot yes/no logit.

Every threshold is chosen on the `val` split, never on train or test: a part's `threshold`
(medium) maximises F1 there, its `high` is the lowest score at which 95% of val messages are
at risk. The desk runs the cheap combination on every message and asks the judge only when
the cheap score falls in `band` (chosen on val: the narrowest band around the cheap threshold
that keeps the cascade's val F1 within 0.005 of the full combination's).

Training embeds ~3,000 messages (about a minute on 2 CPU cores) and reads the kept judge
readings from a committed file; the result is a few hundred kilobytes of weights cached as
.npz in the model cache, so loading at service start is instant and needs no scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from chatbot.risk.lexicon import Lexicon

# Bump when the training procedure changes, so cached models are retrained.
TRAINING_VERSION = "2"
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
FOLDS = 5
HIGH_PRECISION = 0.95
BAND_TOLERANCE = 0.005  # F1 the cascade may give up against asking the judge every time
BAND_WIDTHS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 99.0)  # half-widths in logits


@dataclass(frozen=True)
class LinearModel:
    """A fitted logistic regression: P(at risk) = sigmoid(x . weights + bias)."""

    weights: np.ndarray
    bias: float
    threshold: float  # medium: the score that maximised F1 on the val split
    high: float  # the lowest score with HIGH_PRECISION precision on val
    c: float  # the chosen inverse regularisation strength, for the report

    def logit(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weights + self.bias

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    def level(self, p: float) -> str:
        return "high" if p >= self.high else "medium" if p >= self.threshold else "low"


@dataclass(frozen=True)
class Scored:
    """The desk's scores for some messages, and whether the judge was asked for each."""

    probability: np.ndarray
    levels: list[str]
    asked: np.ndarray


@dataclass(frozen=True)
class RiskModel:
    embedding: LinearModel  # on the sentence embedding
    lexicon: LinearModel  # on VADER and cue features only
    cheap: LinearModel  # on [embedding logit, lexicon features]
    judge: LinearModel | None  # on the judge's hidden state
    full: LinearModel | None  # on [embedding logit, judge logit, zero-shot logit, lexicon features]
    band: tuple[float, float]  # cheap probabilities for which the desk asks the judge
    vader_threshold: float  # -compound above this is "at risk" (chosen on val), for the report
    zero_shot_threshold: float  # the judge's yes/no logit, likewise
    key: str  # fingerprint of data, cues, embedder, judge readings and training code

    @property
    def combined(self) -> LinearModel:
        """The combination the desk decides with when it asks the judge (else the cheap one)."""
        return self.full or self.cheap

    def needs_judge(self, cheap: np.ndarray) -> np.ndarray:
        low, high = self.band
        return (cheap >= low) & (cheap <= high) if self.full is not None else np.zeros(len(cheap), bool)

    def cheap_inputs(self, embeddings: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        return np.hstack([self.embedding.logit(embeddings)[:, None], lexical])

    def full_inputs(self, embeddings, lexical, zero_shot, hidden) -> np.ndarray:
        return np.hstack([self.embedding.logit(embeddings)[:, None], self.judge.logit(hidden)[:, None],
                          np.asarray(zero_shot)[:, None], lexical])

    def score(self, embeddings: np.ndarray, lexical: np.ndarray, read) -> Scored:
        """The desk's cascade: the cheap combination, and the full one where it is unsure.

        `read(indices)` returns the judge's Reading of those rows (called once, only for the
        rows that need it, never when none do); None means no judge is loaded."""
        p = self.cheap.probability(self.cheap_inputs(embeddings, lexical))
        levels = [self.cheap.level(v) for v in p]
        asked = self.needs_judge(p) if read is not None else np.zeros(len(p), bool)
        if asked.any():
            rows = np.flatnonzero(asked)
            reading = read(rows)
            full = self.full.probability(
                self.full_inputs(embeddings[rows], lexical[rows], reading.zero_shot, reading.hidden)
            )
            for row, value in zip(rows, full):
                p[row], levels[row] = value, self.full.level(value)
        return Scored(p, levels, asked)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"key": np.array(self.key), "band": np.array(self.band),
                  "alone": np.array([self.vader_threshold, self.zero_shot_threshold])}
        for name in PARTS:
            part: LinearModel | None = getattr(self, name)
            if part is not None:
                arrays[f"{name}_w"] = part.weights
                arrays[f"{name}_meta"] = np.array([part.bias, part.threshold, part.high, part.c])
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)  # never leave a half-written model behind

    @classmethod
    def load(cls, path: Path) -> RiskModel:
        with np.load(path) as data:
            parts = {
                name: LinearModel(data[f"{name}_w"].astype(np.float32), *map(float, data[f"{name}_meta"]))
                if f"{name}_w" in data else None
                for name in PARTS
            }
            band = tuple(float(v) for v in data["band"])
            vader, zero_shot = (float(v) for v in data["alone"])
            return cls(key=str(data["key"]), band=band, vader_threshold=vader,
                       zero_shot_threshold=zero_shot, **parts)


PARTS = [f.name for f in fields(RiskModel) if f.type in ("LinearModel", "LinearModel | None")]


def load_messages(path: Path) -> list[dict]:
    """The labeled shopper messages (see evals/data/risk/README.md)."""
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def model_key(lexicon: Lexicon, embedding_model: str, data_file: Path, readings: Path | None) -> str:
    digest = hashlib.sha256(data_file.read_bytes())
    if readings is not None:
        digest.update(readings.read_bytes())
    digest.update(f"|{lexicon.fingerprint}|{embedding_model}|{TRAINING_VERSION}".encode())
    return digest.hexdigest()[:16]


def model_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / "risk" / f"risk-{key}.npz"


def load_or_train(
    cache_dir: Path, lexicon: Lexicon, embedder, data_file: Path, judge_key: str | None = None,
    *, progress: bool = True,
) -> RiskModel:
    """The cached model for these data, cues, embedder and judge; trained and cached if missing.

    The judge's parts are trained only when its readings of every train and val message are
    kept beside the data (evals/data/risk/judge-*.npz for this model and prompt); otherwise
    the model is the cheap combination alone and the desk never loads the judge."""
    from chatbot.risk.judge import KeptReadings

    rows = [row for row in load_messages(data_file) if row["split"] in ("train", "val")]
    texts = [row["text"] for row in rows]
    kept = KeptReadings(data_file.parent, judge_key) if judge_key else None
    reading = kept.get(texts) if kept is not None else None
    if kept is not None and reading is None and progress:
        print(f"risk model: no kept judge readings for {judge_key} (run evals/data/risk/score_judge.py); "
              "training without the judge", file=sys.stderr)
    key = model_key(lexicon, embedder.model_id, data_file, kept.path if reading is not None else None)
    path = model_path(cache_dir, key)
    if path.exists():
        model = RiskModel.load(path)
        # A model cached before the feature code changed would silently mis-score; retrain.
        if model.cheap.weights.shape[0] == 1 + lexicon.features(["x"]).shape[1]:
            return model
    if progress:
        # stderr: stdout belongs to the command's own output (`ask --json` prints JSON there).
        print(f"risk model: training on {len(rows)} labeled messages (cached in {path.parent})",
              file=sys.stderr)
    model = train(
        embedder.embed(texts, progress=progress),
        lexicon.features(texts),
        reading,
        np.array([row["at_risk"] for row in rows]),
        np.array([row["base"] for row in rows]),
        np.array([row["split"] == "val" for row in rows]),
        key,
    )
    model.save(path)
    return model


def train(embeddings, lexical, reading, labels, groups, is_val, key: str) -> RiskModel:
    """Fit every part on the train rows; choose every threshold and the band on the val rows."""
    tr, va = ~is_val, is_val
    y, yv = labels[tr], labels[va]
    embedding, emb_oof = fit_head(embeddings[tr], y, groups[tr])
    lexicon = fit(lexical[tr], y, groups[tr])
    cheap = fit(np.hstack([emb_oof[:, None], lexical[tr]]), y, groups[tr])
    emb_val = embedding.logit(embeddings[va])[:, None]
    cheap = with_thresholds(cheap, yv, cheap.probability(np.hstack([emb_val, lexical[va]])))
    lexicon = with_thresholds(lexicon, yv, lexicon.probability(lexical[va]))
    embedding = with_thresholds(embedding, yv, embedding.probability(embeddings[va]))
    vader = choose_threshold(yv, -lexical[va, 3])[0]  # column 3: VADER's compound
    judge = full = None
    band, zero_shot_threshold = (1.0, 0.0), 0.0
    if reading is not None:
        hidden, zero_shot = reading.hidden, reading.zero_shot
        judge, judge_oof = fit_head(hidden[tr], y, groups[tr])
        full = fit(np.hstack([emb_oof[:, None], judge_oof[:, None], zero_shot[tr, None], lexical[tr]]),
                   y, groups[tr])
        judge = with_thresholds(judge, yv, judge.probability(hidden[va]))
        full_val = full.probability(np.hstack([emb_val, judge.logit(hidden[va])[:, None],
                                               zero_shot[va, None], lexical[va]]))
        full = with_thresholds(full, yv, full_val)
        cheap_val = cheap.probability(np.hstack([emb_val, lexical[va]]))
        band = choose_band(yv, cheap_val, full_val, cheap, full)
        zero_shot_threshold = choose_threshold(yv, zero_shot[va])[0]
    return RiskModel(embedding=embedding, lexicon=lexicon, cheap=cheap, judge=judge, full=full,
                     band=band, vader_threshold=vader, zero_shot_threshold=zero_shot_threshold,
                     key=key)


def fit_head(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[LinearModel, np.ndarray]:
    """A head on a dense vector, and its out-of-fold logits on the same rows (for stacking)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict

    head = fit(x, y, groups)
    mean, scale = _standardiser(x)
    oof = cross_val_predict(
        LogisticRegression(C=head.c, max_iter=3000, class_weight="balanced"),
        (x - mean) / scale, y, groups=groups, cv=GroupKFold(FOLDS), method="decision_function",
    )
    return head, oof.astype(np.float32)


def fit(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> LinearModel:
    """Choose C by grouped cross-validation (log loss) on train rows, then refit on all of them.

    Inputs are standardised for fitting and the scaling folded back into the weights."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score

    mean, scale = _standardiser(x)
    z = (x - mean) / scale

    def make(c: float):
        # Balanced weights: missing an at-risk shopper costs more than a needless check.
        return LogisticRegression(C=c, max_iter=3000, class_weight="balanced")

    scores = [
        cross_val_score(make(c), z, y, groups=groups, cv=GroupKFold(FOLDS), scoring="neg_log_loss").mean()
        for c in C_GRID
    ]
    c = C_GRID[int(np.argmax(scores))]
    fitted = make(c).fit(z, y)
    weights = fitted.coef_[0] / scale
    bias = float(fitted.intercept_[0] - np.sum(fitted.coef_[0] * mean / scale))
    return LinearModel(weights.astype(np.float32), bias, 0.5, 0.9, c)


def _standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    return mean, np.where(scale > 1e-6, scale, 1.0)


def choose_threshold(y: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """(medium, high) for scores on val: best F1; lowest score with HIGH_PRECISION precision."""
    order = np.argsort(-scores)
    s, hits = scores[order], y[order].astype(float)
    tp = np.cumsum(hits)
    k = np.arange(1, len(s) + 1)
    f1 = 2 * tp / (k + hits.sum())
    # Only where the score changes: a threshold cannot split tied scores.
    last = np.r_[s[1:] != s[:-1], True]
    best = int(np.argmax(np.where(last, f1, -1)))
    precise = np.flatnonzero(last & (tp / k >= HIGH_PRECISION) & (k >= 10))
    high = float(s[precise[-1]]) if len(precise) else float(s[0])
    return float(s[best]), max(high, float(s[best]))


def with_thresholds(part: LinearModel, y: np.ndarray, p: np.ndarray) -> LinearModel:
    medium, high = choose_threshold(y, p)
    return LinearModel(part.weights, part.bias, medium, high, part.c)


def choose_band(y, cheap_p, full_p, cheap: LinearModel, full: LinearModel) -> tuple[float, float]:
    """The narrowest band of cheap scores around the cheap threshold where asking the judge
    keeps the cascade's val F1 within BAND_TOLERANCE of asking it every time."""
    from sklearn.metrics import f1_score

    target = f1_score(y, full_p >= full.threshold)
    centre = np.log(cheap.threshold / (1 - cheap.threshold))
    for width in BAND_WIDTHS:
        low, high = _sigmoid(centre - width), _sigmoid(centre + width)
        inside = (cheap_p >= low) & (cheap_p <= high)
        decided = np.where(inside, full_p >= full.threshold, cheap_p >= cheap.threshold)
        if f1_score(y, decided) >= target - BAND_TOLERANCE:
            return float(low), float(high)
    return 0.0, 1.0


def _sigmoid(v: float) -> float:
    return float(1.0 / (1.0 + np.exp(-v)))
