"""The answer in the shopper's language, when it is not the documents'.

A shopper writing Spanish to a shop whose documents are English gets an answer written in
English first, by the shop's adapter from English evidence (what it was trained for; the
fact guard and the claim check read it against the evidence in one language), and then
translated by the base model. The translation is checked before anyone reads it: every
number of the answer (prices, days, order and tracking numbers) must be in it and it may add
none; a translation that fails is tried once more from another prompt, then the answer is
shown as written, led by a sentence in the shopper's language that says so (the pipeline's
step 5). Citations ([1]) are kept.

Asking the 0.5B model to answer in Spanish from English evidence scored 0.34 key facts on
the conversations suite's non-English turns (0.75 on English ones): it answered, translated
and chose the fact in one step, without the adapter.
"""

from __future__ import annotations

import re
from collections import Counter

from chatbot.answer import CITATION
from chatbot.language import name

RULES = (
    "You translate a shop assistant's reply from {source} into {target}. Keep every number, "
    "price, date, order number, product name and citation such as [1] exactly as written. "
    "Write only the translation."
)
# Short worked examples (a 0.5B model follows one example better than any rule): how a
# price, a citation and a product name survive.
EXAMPLE = "Shipping to Canada costs $19.95 and takes 6-10 business days. [1]"
EXAMPLES = {
    "es": "El envío a Canadá cuesta $19.95 y tarda 6-10 días hábiles. [1]",
    "de": "Der Versand nach Kanada kostet $19.95 und dauert 6-10 Werktage. [1]",
    "fr": "La livraison au Canada coûte $19.95 et prend 6 à 10 jours ouvrables. [1]",
    "it": "La spedizione in Canada costa $19.95 e richiede 6-10 giorni lavorativi. [1]",
    "pt": "O envio para o Canadá custa $19.95 e leva 6-10 dias úteis. [1]",
}
# A number as either language writes it: "24.95" and "24,95" and "1,000" and "1.000" are compared
# by their digit groups; "A1042" and "1Z999" give their digits.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A sentence of a line, with the citations after its full stop ("$24.95" is not an end).
_PIECE = re.compile(r"\S.*?(?:[.!?](?:\s*\[\d+\])*(?=\s|$)|$)")


def translate(text: str, source: str, target: str, generator, *, max_new_tokens: int) -> str | None:
    """text (in source) in target, or None when no attempt kept its numbers. A text whose
    translation whole changed a number is translated again a sentence at a time (a small model
    keeps a sentence's numbers more often than a paragraph's), and kept if every one held."""
    whole = _translated(text, source, target, generator, max_new_tokens)
    if whole is not None:
        return whole
    lines = [_PIECE.findall(line) for line in text.splitlines()]
    if sum(len(pieces) for pieces in lines) < 2:
        return None  # one sentence: already tried
    translated = []
    for pieces in lines:
        done = [_translated(piece, source, target, generator, max_new_tokens) for piece in pieces]
        if None in done:
            return None
        translated.append(" ".join(done))
    return "\n".join(translated)


def _translated(text: str, source: str, target: str, generator, max_new_tokens: int) -> str | None:
    """The first attempt's translation of text that keeps its numbers, or None."""
    for attempt in attempts(text, source, target):
        translation = "".join(generator.stream(attempt, max_new_tokens=max_new_tokens)).strip()
        if faithful(text, translation):
            return with_citations(text, translation)
    return None


def attempts(text: str, source: str, target: str) -> list[list[dict[str, str]]]:
    """The prompts tried in turn: with a worked example where there is one, then without
    (greedy decoding would write a failed translation again from the same prompt)."""
    rules = {"role": "system", "content": RULES.format(source=name(source), target=name(target))}
    asked = {"role": "user", "content": text}
    prompts = [[rules, asked]]
    if source == "en" and target in EXAMPLES:
        example = [{"role": "user", "content": EXAMPLE}, {"role": "assistant", "content": EXAMPLES[target]}]
        prompts.insert(0, [rules, *example, asked])
    return prompts


def faithful(original: str, translation: str) -> bool:
    """Whether translation states exactly the numbers of original (citations aside), and has text."""
    if not translation.strip():
        return False
    return numbers(original) == numbers(translation)


def numbers(text: str) -> Counter:
    """The numbers text states, each as its digit groups ("24,95" and "24.95" are one)."""
    return Counter(tuple(re.split(r"[.,]", n)) for n in _NUMBER.findall(CITATION.sub(" ", text)))


def with_citations(original: str, translation: str) -> str:
    """translation with the original's citations it dropped added at its end."""
    missing = [f"[{n}]" for n in dict.fromkeys(CITATION.findall(original)) if f"[{n}]" not in translation]
    return f"{translation} {' '.join(missing)}" if missing else translation
