"""A training example before it meets the prompt: a question, the answer we want, and which
evidence the answer cites. `data.py` turns drafts into prompts with the pipeline's own
prompt builder."""

from __future__ import annotations

from dataclasses import dataclass, field

CITE = "[@]"  # where the target evidence's number goes once the prompt has numbered it


@dataclass
class Draft:
    kind: str  # document, faq, product, order, dev, refusal, conversation, correction
    question: str
    answer: str  # may contain CITE
    target: tuple[str, str] | None = None  # (doc_id, heading) the answer cites
    customer_id: int | None = None
    history: list[dict[str, str]] = field(default_factory=list)
    withhold: tuple[str, str] | None = None  # a refusal: this section is left out of the evidence
    exclude_facts: list[str] = field(default_factory=list)  # and so is evidence stating these
    exclude_statement: str = ""  # or restating this (the answer the refusal replaces)
    origin: str = ""  # the section, order or annotation the draft came from
