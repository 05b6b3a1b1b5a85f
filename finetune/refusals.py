"""Questions the evidence cannot answer, paired with the desk's hand-off reply verbatim
(chatbot/handoff.py), so the adapter says so plainly instead of guessing:

- a document question asked with its answer's section, and any evidence stating its fact
  or restating its answer (another section, a product's care line), left out of the
  prompt: the evidence is near the topic but silent on the point, never a refusal next
  to the answer;
- questions any shop gets that its documents rarely cover (knowledge/out_of_scope.yaml);
- the unanswerable and hand-off questions of the dev set's training part.
"""

from __future__ import annotations

import random
from pathlib import Path

import yaml

from chatbot.handoff import HANDOFF_REPLY
from finetune.draft import CITE, Draft
from knowledge.calibration import OUT_OF_SCOPE
from knowledge.facts import extract


def withheld_drafts(answerable: list[Draft], rng: random.Random, count: int) -> list[Draft]:
    """Answerable document drafts turned into refusals by withholding their evidence."""
    chosen = rng.sample(answerable, min(count, len(answerable)))
    drafts = []
    for draft in chosen:
        facts = [f.text for f in extract(draft.answer)] or [draft.answer.split(" [")[0][:60]]
        drafts.append(Draft("refusal", draft.question, HANDOFF_REPLY, None, draft.customer_id,
                            withhold=draft.target, exclude_facts=facts,
                            exclude_statement=draft.answer.replace(CITE, "").strip(),
                            origin=f"withheld {draft.origin}"))
    return drafts


def out_of_scope_drafts(rng: random.Random, path: Path = OUT_OF_SCOPE) -> list[Draft]:
    questions = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    return [Draft("refusal", rng.choice([q, q.lower().rstrip("?")]), HANDOFF_REPLY, origin="out of scope")
            for q in questions]


def to_refuse(question: dict) -> bool:
    """Whether a dev question must be refused or handed off: the dev set labels those with an
    empty key fact (its kinds `unanswerable` and `handoff`; evals/data/check_dev_questions.py
    checks the labels)."""
    return not question["key_fact"]


def dev_refusal_drafts(questions: list[dict]) -> list[Draft]:
    return [Draft("refusal", q["question"], HANDOFF_REPLY, None, q.get("customer_id"), origin=q["id"])
            for q in questions if to_refuse(q)]
