"""Multi-turn conversations: a follow-up question with the earlier turns as history, and
angry ones where the shopper threatens to leave after the desk made a retention offer.

The offer's words in the history come from chatbot/offers/wording.py, exactly as the
pipeline appends them; the answer to learn stays calm, apologises once and answers from the
evidence. It never states an offer itself: offers are made by the policy, not the model.
"""

from __future__ import annotations

import random

from chatbot.offers.wording import describe
from shopcore.schemas import Offer
from finetune.draft import CITE, Draft

FRUSTRATION = [
    "This is ridiculous.", "Honestly I'm about to cancel and shop somewhere else.",
    "Third time asking now.", "I'm really not happy with you guys.",
    "Ugh, this is taking forever.", "Seriously, I'm done waiting.",
]
APOLOGY = ["I'm sorry for the frustration.", "I'm sorry about this.", "Sorry for the trouble."]
SAMPLE_OFFERS = [
    Offer("SORRY-7Q2K", "percent_discount", 10, "%", "one use, orders over $50", "2026-12-31T00:00:00"),
    Offer(None, "free_shipping", 0, "", "next order, any size", None),
    Offer("THANKS-4M8P", "fixed_discount", 15, "USD", "one use", "2027-01-15T00:00:00"),
]


def conversation_drafts(answerable: list[Draft], rng: random.Random, count: int) -> list[Draft]:
    """`count` follow-ups: two answerable drafts of the same customer (or none), the first
    as history; about half of them angry, with an offer in the history."""
    pool = [d for d in answerable if CITE in d.answer]
    drafts = []
    for _ in range(count):
        first, second = rng.sample(pool, 2)
        if first.customer_id != second.customer_id:
            continue
        earlier = first.answer.replace(CITE, "[1]")
        history = [{"role": "user", "content": first.question}, {"role": "assistant", "content": earlier}]
        question, answer, kind = second.question, second.answer, "conversation"
        if rng.random() < 0.5:
            offer = describe(rng.choice(SAMPLE_OFFERS))
            history[-1]["content"] = f"{earlier}\n\n{offer}"
            question = f"{rng.choice(FRUSTRATION)} {question}"
            answer = f"{rng.choice(APOLOGY)} {answer}"
            kind = "angry"
        drafts.append(Draft(kind, question, answer, second.target, second.customer_id, history,
                            origin=second.origin))
    return drafts
