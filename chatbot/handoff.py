"""When the desk should not answer but get a person: the question needs one (a legal threat,
a payment dispute, account security, a complaint about staff), or the evidence does not
cover it. The cues are data; the wording is one constant, which the fine-tuning set uses
verbatim so the adapter learns to say exactly this. A shopper who asks for a person hears
instead that one was asked for (the catalog's `person_asked`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shopcore.schemas import Evidence
from knowledge.retrieval import COVERAGE_THRESHOLD, covers

HANDOFF_REPLY = (
    "I'm sorry, I can't answer that reliably myself and I don't want to guess. "
    "Let me get a person from our team to help you with this."
)

# reason -> phrasings that mean a person must handle the conversation, whatever the evidence.
NEEDS_PERSON = {
    # The shopper asks for one, in any of the desk's languages.
    "shopper_asked": [
        r"\b(talk|speak|chat)\s+(to|with)\s+(a|an|the|some|your)?\s*(real\s+|actual\s+|live\s+)?"
        r"(human|person|agent|someone|somebody|manager|supervisor|representative|rep)\b",
        r"\b(want|need|'d like|would like)\s+(a|an)\s+(real\s+|actual\s+|live\s+)?(human|person|agent)\b",
        r"\bhuman\s+(agent|please)\b",
        r"\b(can|could|would|will)\s+(a|an|some|one of your)\s*(human|person|agent|staff|someone)\s+"
        r"(call|ring|phone|contact|email|e-mail|help)\b",
        r"\b(get|put)\s+me\s+(through\s+to\s+)?(a|an|to a)\s+(human|person|agent|manager)\b",
        r"\bcall\s+me\s+back\b",
        r"\bhablar\s+con\s+(una\s+persona|un\s+humano|alguien|un\s+agente|un\s+encargado)\b",
        r"\bmit\s+(einem\s+Menschen|einer\s+Person|jemandem|einem\s+Mitarbeiter)\s+(sprechen|reden)\b",
        r"\bparler\s+(à|a|avec)\s+(un\s+humain|une\s+personne|quelqu'un|un\s+conseiller|un\s+agent)\b",
    ],
    "legal": [
        r"\b(sue|suing|lawsuit|lawyer|attorney|solicitor|legal action|small claims|court)\b",
        r"\b(better business bureau|bbb|consumer protection|trading standards|ombudsman)\b",
        r"\breport(ing)? you to\b",
    ],
    "safety": [
        r"\b(injur(ed|y|ies)|burn(ed|t) (my|his|her|their)|hurt (me|my|him|her)|hospital)\b",
        r"\bsafety (issue|problem|hazard|concern)\b",
    ],
    "payment_dispute": [
        # "chargeback" is a dispute; "do I get the delivery charge back" is a refund question.
        r"\bcharge-?backs?\b",
        r"\b(file|filed|filing|open|opened|opening|start|started|raise|raised|do|did|doing) an? charge backs?\b",
        r"\bdisput(e|ed|ing)\b",
        r"\b(charged|billed) (me )?(twice|two times|double)\b",
        r"\bdouble[- ]charged\b",
        r"\b(charge|payment|transaction)s? (from you )?(on my (card|account|statement) )?(that )?i (never|didn'?t) (made|make|authori[sz]ed?)\b",
        r"\bunauthori[sz]ed (charge|payment|transaction)s?\b",
        r"\bfraud(ulent)? (charge|payment|transaction)s?\b",
    ],
    "account_security": [
        r"\b(hack(ed|ing)?|compromised|phishing|identity theft)\b",
        r"\bsomeone (else )?(logged|got|broke) into\b",
        r"\b(asking|asked) for my password\b",
        r"\b(locked out of|can'?t (log|sign) ?in(to)?) my account\b",
    ],
    "staff_complaint": [
        r"\b(abusive|harass(ed|ment|ing)?|rude|threatened)\b.{0,40}\b(driver|agent|staff|employee|courier|rep)s?\b",
        r"\b(driver|agent|staff|employee|courier|rep)s?\b.{0,40}\b(abusive|harass(ed|ment|ing)?|rude|threatened)\b",
    ],
}
_NEEDS_PERSON = {
    reason: re.compile("|".join(f"(?:{cue})" for cue in cues), re.IGNORECASE)
    for reason, cues in NEEDS_PERSON.items()
}

@dataclass(frozen=True)
class Handoff:
    reason: str  # a key of NEEDS_PERSON, or "not_covered"
    detail: str = ""  # the phrase that triggered it, or the best evidence score


def needs_person(question: str) -> Handoff | None:
    """The first NEEDS_PERSON reason whose cues the question matches, if any."""
    for reason, pattern in _NEEDS_PERSON.items():
        found = pattern.search(question)
        if found:
            return Handoff(reason, found.group(0))
    return None


def evidence_covers(evidence: list[Evidence], threshold: float = COVERAGE_THRESHOLD) -> bool:
    """Whether the evidence is relevant enough to answer from: retrieval's own decision
    (a relevance fitted on similarity and term coverage, orders scored the same way)."""
    return covers(evidence, threshold)


def route(question: str, evidence: list[Evidence], threshold: float = COVERAGE_THRESHOLD) -> Handoff | None:
    """A hand-off if a person should take this question, else None (the model answers)."""
    person = needs_person(question)
    if person is not None:
        return person
    if not evidence_covers(evidence, threshold):
        best = max((e.score for e in evidence), default=0.0)
        return Handoff("not_covered", f"best evidence score {best:.2f}")
    return None
