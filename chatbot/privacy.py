"""Personal data a shopper types is masked before anything stores it or a model reads it.

The pipeline masks the message first (step 1), so the database, the transcript, the agent
console, the exports, the fine-tuning set and the prompt all hold the masked text; the raw
text is never written. What is masked:

- payment card numbers: 13-19 digits, optionally in groups split by spaces or dashes, that
  pass the Luhn check (so order numbers and phone numbers stay) -> "[card ending 1111]";
- security codes: 3-4 digits after CVV, CVC, CVV2, CID or "security code" -> "[security code]";
- e-mail addresses -> "[email]" (CHATBOT_PII_MASK_EMAILS, on by default: the desk never
  needs one to answer, and the shop's backend signs the shopper in);
- the shop's own patterns, CHATBOT_PII_PATTERNS: a JSON object of label -> regular
  expression, each match -> "[label]" (an IBAN, a national id, a loyalty card number...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from shopcore.settings import Settings

# 13-19 digits, in groups of 1+ separated by single spaces or dashes, not inside a longer number.
CARD_CANDIDATE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
SECURITY_CODE = re.compile(
    r"\b(?P<label>cvv2?|cvc2?|cid|security\s+code|card\s+code)\b(?P<gap>\W{0,3}(?:is|:|=)?\W{0,3})(?P<code>\d{3,4})\b",
    re.IGNORECASE,
)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")


def luhn_valid(digits: str) -> bool:
    """The payment-card checksum (ISO/IEC 7812): catches every single-digit error."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"[card ending {digits[-4:]}]" if luhn_valid(digits) else match.group(0)


@dataclass(frozen=True)
class Masker:
    """Masks a text by the rules above; `patterns` are the shop's own (label -> compiled)."""

    mask_emails: bool = True
    patterns: dict[str, re.Pattern] = field(default_factory=dict)

    def __call__(self, text: str) -> str:
        text = CARD_CANDIDATE.sub(_card, text)
        text = SECURITY_CODE.sub(lambda m: f"{m.group('label')}{m.group('gap')}[security code]", text)
        if self.mask_emails:
            text = EMAIL.sub("[email]", text)
        for label, pattern in self.patterns.items():
            text = pattern.sub(f"[{label}]", text)
        return text


def mask(text: str, settings: Settings) -> str:
    """`text` with the personal data the settings name masked."""
    return _masker(settings.pii_mask_emails, tuple(settings.pii_patterns.items()))(text)


@lru_cache(maxsize=8)
def _masker(mask_emails: bool, patterns: tuple[tuple[str, str], ...]) -> Masker:
    return Masker(mask_emails, {label: re.compile(regex) for label, regex in patterns})
