"""The hand-off threshold of one shop, calibrated on questions made from its own documents.

The relevance that decides between answering and handing off (knowledge/retrieval.py) was
fitted on the demo shop; another shop's documents and wording score differently. Setup
therefore asks the shop's own index two sets of questions, with no labelling by hand:

- answerable: questions about the shop's sections, FAQ entries and product fields, put the
  way shoppers type them (casual, a typo: knowledge/phrasing.py, as the fine-tuning set asks);
- unanswerable: questions shops get that their documents rarely answer (out_of_scope.yaml),
  minus any that this shop's documents do cover (their words nearly all present);

and takes the threshold on the best evidence's relevance that makes the fewest mistakes on
both, each side weighted equally (balanced accuracy; ties go to the default), when it makes
fewer than the default by more than chance would. The result,
with the error rates before and after, is written to the shop's folder and read by the
settings (CHATBOT_COVERAGE_THRESHOLD still wins when set).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml
from tqdm import tqdm

from knowledge.phrasing import fact_sentences, record_fields, record_question, sentence_question, variants
from knowledge.retrieval import COVERAGE_THRESHOLD, RELEVANCE_WEIGHTS, Retriever

OUT_OF_SCOPE = Path(__file__).with_name("out_of_scope.yaml")
COVERED = 0.8  # an "unanswerable" question whose words the shop's documents nearly all hold is left out
LIMITS = (0.15, 0.85)  # the threshold stays where some evidence still decides
MAX_QUESTIONS = 300  # per side, sampled: calibration takes seconds on any shop
METHOD = 2  # bump when choosing changes: every shop's calibration is then redone


@dataclass(frozen=True)
class Calibration:
    threshold: float
    default: float
    answerable: int
    unanswerable: int
    # Shares of the generated questions the desk would get wrong at each threshold.
    before: dict[str, float]
    after: dict[str, float]
    index_fingerprint: str

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Calibration | None:
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (FileNotFoundError, json.JSONDecodeError, TypeError):
            return None

    def lines(self) -> list[str]:
        return [f"hand-off threshold {self.threshold:.2f} (default {self.default:.2f}), from "
                f"{self.answerable} answerable and {self.unanswerable} unanswerable questions made from the "
                "shop's documents",
                f"answerable refused {self.before['answerable_refused']:.1%} -> {self.after['answerable_refused']:.1%}, "
                f"unanswerable answered {self.before['unanswerable_answered']:.1%} -> "
                f"{self.after['unanswerable_answered']:.1%}"]


def answerable_questions(retriever: Retriever, rng: random.Random) -> list[str]:
    """Questions the shop's documents answer, typed as shoppers type them: a product field, an
    FAQ entry's question, or a phrase of a section's sentence with the question word its fact
    calls for (the fine-tuning set's questions, knowledge/phrasing.py)."""
    questions = []
    for chunk in retriever.index.chunks:
        if chunk.doc_type == "product":
            fields = record_fields(chunk.text)
            if fields:
                field = rng.choice(fields)[0].lower()
                questions.append(record_question(chunk.title, field, rng))
        elif chunk.section.endswith("?"):  # an FAQ entry: its heading is the question
            questions.append(rng.choice(variants(chunk.section, rng, 3)))
        else:
            for sentence in fact_sentences(chunk.text):
                question = sentence_question(sentence, chunk.section or chunk.title, rng)
                if question:
                    questions.append(rng.choice(variants(question, rng, 3)))
    questions = list(dict.fromkeys(questions))
    return rng.sample(questions, min(MAX_QUESTIONS, len(questions)))


def unanswerable_questions(path: Path = OUT_OF_SCOPE) -> list[str]:
    listed = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(listed["questions"]) + list(listed.get("shop_topics", []))


def best_relevance(retriever: Retriever, questions: list[str], k: int, desc: str) -> list[float]:
    """The best evidence's relevance for each question, as the pipeline's step 3 sees it."""
    return [max((hit.score for hit in retriever.search(q, k)), default=0.0)
            for q in tqdm(questions, desc=desc, unit="question", leave=False)]


def error_rates(answerable: list[float], unanswerable: list[float], threshold: float) -> dict[str, float]:
    return {"answerable_refused": sum(s < threshold for s in answerable) / max(1, len(answerable)),
            "unanswerable_answered": sum(s >= threshold for s in unanswerable) / max(1, len(unanswerable))}


def choose_threshold(answerable: list[float], unanswerable: list[float],
                     default: float = COVERAGE_THRESHOLD) -> float:
    """The threshold with the fewest mistakes, both sides weighted equally; ties nearest the
    default. The default stays unless the best one makes fewer mistakes by more than chance
    would (one standard error of the default's balanced error): a shop gets a few dozen
    unanswerable questions, each 2% of them, and on the demo shop a move that "cost nothing"
    on 45 of them answered two more of the labelled unanswerable questions."""
    low, high = LIMITS
    scores = sorted({round(s, 4) for s in answerable + unanswerable if low <= s <= high})
    candidates = [default] + [(a + b) / 2 for a, b in zip(scores, scores[1:])] + [low, high]

    def cost(threshold: float) -> tuple[float, float]:
        rates = error_rates(answerable, unanswerable, threshold)
        return rates["answerable_refused"] + rates["unanswerable_answered"], abs(threshold - default)

    best = min(candidates, key=cost)
    gain = (cost(default)[0] - cost(best)[0]) / 2  # in balanced error
    return round(best, 3) if gain > standard_error(answerable, unanswerable, default) else default


def standard_error(answerable: list[float], unanswerable: list[float], threshold: float) -> float:
    """The standard error of the balanced error at threshold (each side's rate smoothed by
    one mistake and one success, so a side with none still counts as uncertain)."""
    def variance(wrong: int, n: int) -> float:
        p = (wrong + 1) / (n + 2)
        return p * (1 - p) / max(1, n)

    refused = sum(s < threshold for s in answerable)
    answered = sum(s >= threshold for s in unanswerable)
    return math.sqrt(variance(refused, len(answerable)) + variance(answered, len(unanswerable))) / 2


def fingerprint(retriever: Retriever) -> str:
    """Which documents the index held, how relevance weighed them and how the threshold is
    chosen: a calibration is redone when any of them changes."""
    hashes = json.dumps(retriever.index.document_hashes, sort_keys=True)
    return hashlib.sha256(f"{len(retriever.index.chunks)}:{hashes}:{RELEVANCE_WEIGHTS}:{METHOD}".encode()).hexdigest()[:16]


def calibrate(retriever: Retriever, k: int, *, seed: int = 13, default: float = COVERAGE_THRESHOLD) -> Calibration:
    """Calibrate the hand-off threshold on questions made from retriever's own index."""
    rng = random.Random(seed)
    answerable = best_relevance(retriever, answerable_questions(retriever, rng), k, "calibrating: answerable")
    unasked = unanswerable_questions()
    covered = [max((hit.coverage for hit in retriever.search(q, k)), default=0.0) for q in unasked]
    unasked = [q for q, c in zip(unasked, covered) if c < COVERED]
    unanswerable = best_relevance(retriever, unasked, k, "calibrating: unanswerable")
    threshold = choose_threshold(answerable, unanswerable, default) if answerable and unanswerable else default
    return Calibration(threshold, default, len(answerable), len(unanswerable),
                       error_rates(answerable, unanswerable, default),
                       error_rates(answerable, unanswerable, threshold), fingerprint(retriever))
