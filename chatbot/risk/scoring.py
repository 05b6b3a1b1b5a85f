"""Step 2 of a turn: how likely is this shopper to be lost, from this message and the
conversation so far.

A message's score is the risk model's probability that it is "at risk" (chatbot/risk/model.py):
the cheap combination of a head on the sentence embedding with the lexicon, and, only when
that is unsure, the full combination that adds the served language model's reading of the
message (chatbot/risk/judge.py, a few hundred milliseconds on a 2-core CPU). Its level
(medium, high) comes from thresholds chosen on held-out validation messages. The conversation's score follows the
trajectory: the last turn's score (decayed), this message, and what the store knows
(a repeated question, replies where the bot could not help, the shopper's own late or lost
orders, a high-value customer) count as independent pieces of evidence, combined as a
noisy-or, 1 - prod(1 - evidence). One mild complaint stays low; three failed answers and
"this is ridiculous" add up to high.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from chatbot.risk.lexicon import Lexicon
from chatbot.llm.loading import ModelUnavailable
from chatbot.risk.judge import Judge, judge_key
from chatbot.risk.model import RiskModel, Scored, load_or_train
from chatbot.risk.signals import (
    HIGH_VALUE,
    ConversationFacts,
    conversation_facts,
    is_high_value,
)
from shopcore.schemas import Risk
from chatbot.conversations import TurnStart
from shopcore.store.db import transaction
from shopcore.store.models import Conversation, RiskScore

NEGATIVE = "sentiment:negative"
REPEATED = "failure:repeated_question"
UNANSWERED = "failure:bot_unanswered"
# Reasons that stay with a conversation after the turn that raised them; requests,
# reassurances and pasted instructions only describe the message they came in.
CARRIED = (
    "churn:",
    "legal:",
    "anger:",
    "failure:",
    "escalation:",
    "order:",
    "value:",
    "sentiment:",
)
EARLIER_COMPARED = 10


@dataclass(frozen=True)
class MessageRisk:
    score: float
    level: str
    reasons: tuple[str, ...]


class RiskScorer:
    """The loaded risk model with its lexicon, embedder and (when the model uses it) the
    language-model judge; cheap to call per message."""

    def __init__(self, model: RiskModel, lexicon: Lexicon, embedder, judge: Judge | None = None):
        self.model = model
        self.lexicon = lexicon
        self.embedder = embedder
        self.judge = judge if model.full is not None else None

    @classmethod
    def build(cls, settings, embedder, *, loaded=None, judge: bool = True) -> RiskScorer:
        """Load the shop's cue file and the cached model (training it first if missing), and
        the judge when the model was trained with it and the model is on this machine. The
        desk passes its own loaded base model (`loaded`), so the judge adds no second copy;
        `judge=False` (setup) only trains and caches the model."""
        lexicon = Lexicon.load(settings.risk_cues)
        model = load_or_train(settings.model_cache_dir, lexicon, embedder, settings.risk_data,
                              judge_key(settings.model))
        # With CHATBOT_GENERATOR=openai the language model runs elsewhere (vLLM) and a worker
        # must not load it (docs/deploy.md); the judge needs its hidden state, which that
        # server does not return, so such a worker scores with the cheap combination.
        wanted, judge = judge, None
        if wanted and model.full is not None and settings.generator == "local":
            try:
                judge = Judge(loaded, judge_key(settings.model)) if loaded is not None else Judge.load(settings)
            except ModelUnavailable as exc:  # the cheap combination alone still scores
                print(f"risk judge unavailable, scoring without it: {exc}", file=sys.stderr)
        return cls(model, lexicon, embedder, judge)

    def score(self, texts: list[str], embeddings: np.ndarray) -> Scored:
        """The desk's scores for texts: the cheap combination, the judge where it is unsure."""
        read = (lambda rows: self.judge.read([texts[i] for i in rows])) if self.judge else None
        return self.model.score(embeddings, self.lexicon.features(texts), read)

    def probabilities(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
        """P(at risk) for each text, as the desk scores it."""
        return self.score(texts, embeddings).probability

    def score_message(self, text: str, earlier: list[str] = ()) -> tuple[MessageRisk, bool]:
        """Score one message; also say whether it repeats one of the earlier messages."""
        earlier = list(earlier)[-EARLIER_COMPARED:]
        vectors = self.embedder.embed([text, *earlier])
        scored = self.score([text], vectors[:1])
        score, level = float(scored.probability[0]), scored.levels[0]
        reasons = [r for r in self.lexicon.reasons(text) if not r.startswith("positive:")]
        if level != "low":
            reasons.insert(0, NEGATIVE)
        return MessageRisk(round(score, 4), level, tuple(reasons)), _repeats(
            text, earlier, vectors, self.lexicon
        )


def _repeats(text: str, earlier: list[str], vectors: np.ndarray, lexicon: Lexicon) -> bool:
    # Short turns ("ok", "thanks", "hello?") look alike without anyone repeating a question.
    if len(text.split()) < 3 or not earlier:
        return False
    similarity = vectors[1:] @ vectors[0]
    long_enough = np.array([len(e.split()) >= 3 for e in earlier])
    return bool(np.any((similarity >= lexicon.cues.signals.repeat_similarity) & long_enough))


def score_turn(
    scorer: RiskScorer,
    sessions: sessionmaker[Session],
    start: TurnStart,
    text: str,
    customer_id: int | None,
) -> Risk:
    """Score the turn's message and the conversation; store both; return the conversation's risk."""
    signals = scorer.lexicon.cues.signals
    with sessions() as session:
        facts = conversation_facts(
            session, start.conversation_id, start.message_id, customer_id, signals
        )
    message, repeated = scorer.score_message(text, facts.earlier_questions)
    score, reasons = trajectory(message, facts, repeated, scorer)
    level = scorer.lexicon.cues.levels.conversation.level(score)
    with transaction(sessions) as session:
        session.add(
            RiskScore(
                message_id=start.message_id,
                conversation_id=start.conversation_id,
                score=message.score,
                level=message.level,
                message_reasons=list(message.reasons),
                conversation_score=score,
                conversation_level=level,
                reasons=list(reasons),
            )
        )
        conversation = session.get(Conversation, start.conversation_id)
        conversation.risk_score, conversation.risk_level = score, level
    return Risk(score, level, reasons)


def trajectory(
    message: MessageRisk, facts: ConversationFacts, repeated: bool, scorer: RiskScorer
) -> tuple[float, tuple[str, ...]]:
    """The conversation's score and reasons after this message."""
    signals = scorer.lexicon.cues.signals
    evidence = [signals.decay * facts.previous_score, message.score]
    reasons = list(message.reasons)
    if repeated:
        evidence.append(signals.repeated_question)
        reasons.append(REPEATED)
    if facts.unanswered:
        evidence += [signals.bot_unanswered] * facts.unanswered
        reasons.append(UNANSWERED)
    # The shopper's own failed orders and their value raise the stakes of being upset; on
    # their own (a calm question from a customer with a late parcel) they are not risk.
    if message.level != "low":
        if facts.order_reasons:
            evidence.append(signals.order_failure * message.score)
            reasons += facts.order_reasons
        if is_high_value(facts.value, signals):
            evidence.append(signals.high_value * message.score)
            reasons.append(HIGH_VALUE)
    reasons += [r for r in facts.previous_reasons if r.startswith(CARRIED)]
    score = 1.0 - float(np.prod([1.0 - min(max(e, 0.0), 1.0) for e in evidence]))
    return round(score, 4), tuple(dict.fromkeys(reasons))
