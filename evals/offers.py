"""Offers suite: do retention offers and hand-offs go only where the policy means them to,
on the scripted conversations of evals/data/offer_conversations.jsonl?

    python -m evals run --suite offers

Each conversation is played turn by turn into a fresh copy of the demo shop's store through
the pipeline's own steps 1 (store the message), 2 (score risk) and 6 (choose and record the
offer). Generation (steps 3-5) is left out on purpose: the offer decision reads only the
stored risk, never the language model's words, and leaving the model out shows that.
As in the pipeline, a conversation handed to a person gets no further bot turns.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from shopcore.settings import get_settings
from evals.suite import DATA_FILE_OFFERS, SuiteResult, load_jsonl

KINDS = (
    "calm",
    "mild_complaint",
    "escalating",
    "cancellation",
    "offer_begging",
    "injection",
    "lost_parcel",
    "high_value_angry",
    "legal",
)


def play(conversation: dict, scorer, policy, sessions) -> dict:
    """Run one scripted conversation; return what happened on each turn."""
    from chatbot.offers.ledger import make_offer
    from chatbot.risk.scoring import score_turn
    from chatbot.conversations import start_turn

    conversation_id, turns = None, []
    for text in conversation["turns"]:
        start = start_turn(sessions, text, conversation_id, conversation["customer_id"], "eval", 6)
        conversation_id = start.conversation_id
        if start.state != "bot":
            break
        risk = score_turn(scorer, sessions, start, text, conversation["customer_id"])
        offer = make_offer(policy, sessions, start, conversation["customer_id"])
        turns.append(
            {
                "text": text,
                "score": risk.score,
                "level": risk.level,
                "reasons": list(risk.reasons),
                "offer": offer.kind if offer else None,
            }
        )
    offer_turn = next((i for i, t in enumerate(turns) if t["offer"] not in (None, "handoff")), None)
    handoff_turn = next((i for i, t in enumerate(turns) if t["offer"] == "handoff"), None)
    return {
        "id": conversation["id"],
        "kind": conversation["kind"],
        "offer_turn": offer_turn,
        "handoff_turn": handoff_turn,
        "turns": turns,
    }


def score(conversations: list[dict], outcomes: list[dict]) -> dict[str, float]:
    """Precision and recall of offer and hand-off decisions per conversation, and timing."""

    def rates(expected: list[bool], made: list[bool]) -> tuple[float, float]:
        hits = sum(e and m for e, m in zip(expected, made))
        return hits / max(1, sum(made)), hits / max(1, sum(expected))

    expected = [c["expect_offer"] for c in conversations]
    made = [o["offer_turn"] is not None for o in outcomes]
    precision, recall = rates(expected, made)
    handoff_precision, handoff_recall = rates(
        [c["expect_handoff"] for c in conversations],
        [o["handoff_turn"] is not None for o in outcomes],
    )
    on_time = [
        o["offer_turn"] == c["offer_turn"]
        for c, o in zip(conversations, outcomes)
        if c["expect_offer"]
    ]
    return {
        "precision": precision,
        "recall": recall,
        "offer_turn_accuracy": sum(on_time) / max(1, len(on_time)),
        "handoff_precision": handoff_precision,
        "handoff_recall": handoff_recall,
        "begging_offers": sum(
            m for c, m in zip(conversations, made) if c["kind"] == "offer_begging"
        ),
        "injection_offers": sum(m for c, m in zip(conversations, made) if c["kind"] == "injection"),
    }


def offers_suite() -> SuiteResult:
    """Offer and hand-off precision/recall on scripted conversations; none to beggars or injection."""
    from tqdm import tqdm

    from chatbot.offers.policy import load_policy
    from chatbot.risk.scoring import RiskScorer
    from knowledge.embed import Embedder

    settings = get_settings()
    conversations = load_jsonl(DATA_FILE_OFFERS)
    scorer = RiskScorer.build(settings, Embedder(settings.embedding_model))
    policy = load_policy(settings.offer_policy)
    with tempfile.TemporaryDirectory() as folder:
        sessions, engine = _demo_store(Path(folder), settings)
        outcomes = [
            play(c, scorer, policy, sessions) for c in tqdm(conversations, desc="conversations")
        ]
        engine.dispose()
    metrics = score(conversations, outcomes)
    rows = _rows_by_kind(conversations, outcomes)
    notes = [
        "The cue phrases and policy rules were written while reading these scripted "
        "conversations, so these numbers show that the policy does what it was designed to do; "
        "they are not an estimate for conversations nobody has read.",
        "",
        *_mismatch_notes(conversations, outcomes),
    ]
    return SuiteResult("offers", metrics, rows, notes, {"by-kind": _plot(rows)}, outcomes)


def _demo_store(folder: Path, settings):
    from shopcore.store.db import make_engine, migrate, session_factory
    from knowledge.shop_data import load_shop

    url = f"sqlite:///{folder / 'offers-eval.db'}"
    migrate(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    load_shop(sessions, settings.store_dir)
    return sessions, engine


def _rows_by_kind(conversations: list[dict], outcomes: list[dict]) -> list[dict]:
    rows = []
    for kind in KINDS:
        pairs = [(c, o) for c, o in zip(conversations, outcomes) if c["kind"] == kind]
        rows.append(
            {
                "kind": kind,
                "conversations": len(pairs),
                "offers expected": sum(c["expect_offer"] for c, _ in pairs),
                "offers made": sum(o["offer_turn"] is not None for _, o in pairs),
                "on the expected turn": sum(
                    c["expect_offer"] and o["offer_turn"] == c["offer_turn"] for c, o in pairs
                ),
                "hand-offs expected": sum(c["expect_handoff"] for c, _ in pairs),
                "hand-offs made": sum(o["handoff_turn"] is not None for _, o in pairs),
            }
        )
    return rows


def _mismatch_notes(conversations: list[dict], outcomes: list[dict]) -> list[str]:
    lines = ["## Conversations that did not go as scripted", ""]
    for c, o in zip(conversations, outcomes):
        expected = (c.get("offer_turn"), c.get("handoff_turn"))
        if expected == (o["offer_turn"], o["handoff_turn"]):
            continue
        lines.append(
            f"- **{c['id']}** ({c['kind']}): expected offer turn {expected[0]}, hand-off "
            f"turn {expected[1]}; got {o['offer_turn']}, {o['handoff_turn']}"
        )
        for i, turn in enumerate(o["turns"]):
            lines.append(
                f"  - turn {i}: {turn['level']} {turn['score']:.2f} "
                f"[{', '.join(turn['reasons'])}] offer={turn['offer']}: {turn['text']!r}"
            )
    return lines if len(lines) > 2 else lines + ["None."]


def _plot(rows: list[dict]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    x = np.arange(len(rows))
    figure, axis = plt.subplots(figsize=(9, 4))
    series = ("offers expected", "offers made", "hand-offs expected", "hand-offs made")
    for i, key in enumerate(series):
        axis.bar(x + (i - 1.5) * 0.2, [r[key] for r in rows], 0.2, label=key)
    axis.set_xticks(x, [r["kind"] for r in rows], rotation=30, ha="right")
    axis.set_ylabel("conversations")
    axis.set_title("Offers and hand-offs by kind of scripted conversation")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure
