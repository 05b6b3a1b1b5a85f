"""The language-model judge of churn risk (chatbot/risk/judge.py), its kept readings, the
cascade that asks it only where the cheap signals are unsure, and the frozen risk data.

The judge runs on the tiny random Llama (real transformers code, float32): its answers mean
nothing, but batching, the cached prompt prefix and the cascade's plumbing are the same as
with the served model."""

import json
import subprocess
import sys

import numpy as np
import pytest

from chatbot.risk.judge import Judge, KeptReadings, Reading, text_hash
from chatbot.risk.lexicon import Lexicon
from chatbot.risk.model import choose_threshold, load_messages, train
from evals.suite import DATA_DIR, RISK_MESSAGES

TEXTS = [
    "where is my order A1042?",
    "I want a refund now, this is the worst shop ever",
    "thanks!",
    "Bitte löschen Sie mein Konto, ich kaufe woanders.",
    "x" * 2000,  # a paste: judged on its start
    "",
]


@pytest.fixture(scope="module")
def judge(tiny_model):
    return Judge(tiny_model, "tiny|prompt-test")


def test_a_message_reads_the_same_alone_and_in_a_batch(judge):
    together = judge.read(TEXTS)
    judge._cache.clear()
    alone = [judge.read([t]) for t in TEXTS]
    judge._cache.clear()
    assert together.hidden.shape == (len(TEXTS), judge.loaded.model.config.hidden_size)
    np.testing.assert_allclose(together.zero_shot, [a.zero_shot[0] for a in alone], atol=1e-3)
    np.testing.assert_allclose(together.hidden, np.vstack([a.hidden for a in alone]), atol=1e-3)
    # The cached prefix plus the message is exactly the prompt a plain forward pass would read.
    prompt = judge.prompt(TEXTS[0])
    assert prompt.startswith(judge._template[0]) and TEXTS[0] in prompt and prompt.endswith(judge._template[1])


def test_readings_are_cached_per_message(judge):
    first = judge.read(TEXTS[:2])
    judge.loaded.model.lm_head.weight.data.mul_(2.0)  # a changed model would answer differently...
    try:
        again = judge.read(TEXTS[1::-1])  # ...but these come from the cache, in the asked order
    finally:
        judge.loaded.model.lm_head.weight.data.div_(2.0)
    np.testing.assert_array_equal(again.zero_shot, first.zero_shot[::-1])


def test_kept_readings_round_trip_and_report_what_is_missing(judge, tmp_path):
    kept = KeptReadings(tmp_path, judge.key)
    assert kept.get(TEXTS[:2]) is None and kept.missing(TEXTS[:2]) == TEXTS[:2]
    filled = kept.fill(judge, TEXTS[:3], progress=False)
    again = KeptReadings(tmp_path, judge.key).get(TEXTS[2::-1])
    np.testing.assert_allclose(again.zero_shot, filled.zero_shot[::-1])
    np.testing.assert_allclose(again.hidden, filled.hidden[::-1], atol=1e-2)  # kept as float16
    assert KeptReadings(tmp_path, "another|key").get(TEXTS[:1]) is None


def test_the_cascade_asks_the_judge_only_where_the_cheap_score_is_unsure(embedder, judge):
    rows = load_messages(RISK_MESSAGES)
    picked = [r for r in rows if r["split"] == "train"][:150] + [r for r in rows if r["split"] == "val"][:60]
    texts = [r["text"] for r in picked]
    lexicon = Lexicon.load()
    x, lexical = embedder.embed(texts), lexicon.features(texts)
    reading = judge.read(texts)
    model = train(x, lexical, reading, np.array([r["at_risk"] for r in picked]),
                  np.array([r["base"] for r in picked]), np.array([r["split"] == "val" for r in picked]), "k")
    assert model.full is not None and model.judge is not None
    cheap = model.cheap.probability(model.cheap_inputs(x, lexical))
    asked_for = []

    def read(index):
        asked_for.append(list(index))
        return Reading(reading.zero_shot[index], reading.hidden[index])

    scored = model.score(x, lexical, read)
    inside = (cheap >= model.band[0]) & (cheap <= model.band[1])
    assert np.array_equal(scored.asked, inside)
    assert asked_for == ([list(np.flatnonzero(inside))] if inside.any() else [])
    np.testing.assert_allclose(scored.probability[~inside], cheap[~inside], rtol=1e-6)
    # No judge loaded: the cheap combination decides everything.
    alone = model.score(x, lexical, None)
    assert not alone.asked.any() and np.allclose(alone.probability, cheap)


@pytest.mark.parametrize(
    "labels, scores, medium, high",
    [
        # F1 is best when everything from 0.6 up is called at risk (13 of 14: 0.963, against
        # 0.960 from 0.75 up); precision is 95% or more only from 0.75 up (12 of 12).
        ([0, 0, 1, 0, 1, 1] + [1] * 10, [0.1, 0.2, 0.6, 0.7, 0.75, 0.78] + [0.8 + i / 100 for i in range(10)],
         0.6, 0.75),
        # No score reaches 95% precision over at least 10 messages: high falls back to the top score.
        ([1, 0] * 6, [i / 12 for i in range(12)], 0.0, 11 / 12),
    ],
)
def test_thresholds_are_chosen_from_labelled_scores(labels, scores, medium, high):
    got = choose_threshold(np.array(labels), np.array(scores))
    assert got == pytest.approx((medium, high))


def test_the_risk_data_is_valid_and_the_test_split_is_still_the_frozen_one():
    result = subprocess.run([sys.executable, str(DATA_DIR / "check_risk_data.py")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = load_messages(RISK_MESSAGES)
    cross = {json.loads(line)["text"] for line in (DATA_DIR / "risk" / "crosscheck.jsonl").open()}
    assert len(rows) >= 4000 and len(cross) >= 300 and not cross & {r["text"] for r in rows}
    assert {text_hash(t) for t in cross}.isdisjoint({text_hash(r["text"]) for r in rows if r["split"] != "test"})


SERVED = "qwen2.5-0.5b"


@pytest.fixture(scope="module")
def served_scorer(embedder, tmp_path_factory):
    """The desk's scorer with the served model as its judge (pulled by `make test`'s setup)."""
    from chatbot.risk.scoring import RiskScorer
    from shopcore import catalog
    from tests.conftest import MODEL_CACHE, make_settings

    if not catalog.is_pulled(catalog.find(SERVED), MODEL_CACHE):
        pytest.skip(f"{SERVED} is not pulled (python -m chatbot models pull {SERVED})")
    return RiskScorer.build(make_settings(tmp_path_factory.mktemp("home"), model=SERVED), embedder)


def test_the_kept_readings_are_what_the_served_judge_reads_today(served_scorer):
    """Training reads committed readings; if the model, the prompt or the numerics drifted,
    the desk would score with a model fitted to numbers its judge no longer gives."""
    from chatbot.risk.judge import KeptReadings

    assert served_scorer.judge is not None and served_scorer.model.full is not None
    rows = [r for r in load_messages(RISK_MESSAGES) if r["split"] == "val"][:24]
    texts = [r["text"] for r in rows]
    kept = KeptReadings(RISK_MESSAGES.parent, served_scorer.judge.key).get(texts)
    live = served_scorer.judge.read(texts)
    np.testing.assert_allclose(live.zero_shot, kept.zero_shot, atol=0.3)
    cosine = np.sum(live.hidden * kept.hidden, 1) / (
        np.linalg.norm(live.hidden, axis=1) * np.linalg.norm(kept.hidden, axis=1))
    assert cosine.min() > 0.98


@pytest.mark.parametrize(
    "text, levels",
    [
        # Quiet, factual, and other languages: what the cue lexicon alone missed (issue 34).
        ("My bag has been at the depot for 12 days and nobody can locate it. How do you lose a bag?",
         {"medium", "high"}),
        ("Seit drei Wochen keine Antwort auf meine Reklamation, und das Geld ist auch weg.", {"medium", "high"}),
        ("Please close my account, I won't be back.", {"high"}),
        # Loud praise and shouting at a carrier are not a shopper about to leave.
        ("OMG the jacket is AMAZING!!! BEST PURCHASE EVER 😍", {"low"}),
        ("Does the Trailhead jacket come in XL?", {"low"}),
    ],
)
def test_the_served_scorer_reads_what_the_words_alone_miss(served_scorer, text, levels):
    message, _ = served_scorer.score_message(text)
    assert message.level in levels, (text, message)


def test_a_worker_whose_model_runs_elsewhere_never_loads_it(embedder, served_scorer, tmp_path):
    """CHATBOT_GENERATOR=openai: the LM is served by vLLM, so the worker scores cheaply."""
    from chatbot.risk.scoring import RiskScorer
    from tests.conftest import make_settings

    worker = RiskScorer.build(make_settings(tmp_path, model=SERVED, generator="openai"), embedder)
    assert worker.judge is None and worker.model.key == served_scorer.model.key
    message, _ = worker.score_message("Please close my account, I won't be back.")
    assert message.level == "high"


def test_the_risk_data_regenerates_byte_for_byte_from_its_written_sources():
    import importlib.util

    path = DATA_DIR / "risk" / "build_messages.py"
    spec = importlib.util.spec_from_file_location("build_messages", path)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    rows = build.build()
    assert build.as_jsonl(build.message_records(rows)) == RISK_MESSAGES.read_text(encoding="utf-8")
    assert build.as_jsonl(build.build_crosscheck()) == (DATA_DIR / "risk" / "crosscheck.jsonl").read_text(encoding="utf-8")
    assert build.test_fingerprint(rows) == (DATA_DIR / "risk" / "test_split.sha256").read_text().strip()
