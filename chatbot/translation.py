"""The answer in the shopper's language, when it is not the documents'.

A shopper writing Spanish to a shop whose documents are English gets an answer written in
English first, by the shop's adapter from English evidence (what it was trained for; the
fact guard and the claim check read it against the evidence in one language), and then
translated by the base model. The translation is checked before anyone reads it: every
number of the answer (prices, days, order and tracking numbers) must be in it and it may add
none, and it may not be the text left as written. A translation that fails is tried once
more from another prompt, then a sentence at a time, and a sentence that still fails with
its numbers held out of the model's reach (below); only then is the answer shown as
written, led by a sentence in the shopper's language that says so (the pipeline's step 5).
Citations ([1]) are kept.

Holding numbers: a small model reads some numbers as part of a name and rewrites the name
("delivered in the lower 48 states" became "entregados en el área del noreste" and "livrées
dans le sud des États-Unis" in every attempt, so the shopper read English). With each number
replaced by a placeholder ("the lower [A] states") the model keeps the placeholder, as it
keeps citations, and the number is put back ("en los [A] estados" → "en los 48 estados").
If that fails too, the words either side of the number are held with it and kept as written
("en el lower 48 states"): an English phrase in a Spanish answer reads better than an
English answer, and is as true.

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
# What is held out of the model's reach in a sentence that lost a number: each number, then
# each number between two words, with them, as a name is written ("lower 48 states", not
# "of $99 or" nor "7-14 days": words of three letters or more, next to the digits).
_WORD = r"[^\W\d_]{3,}"
HELD = (_NUMBER, re.compile(rf"{_WORD} {_NUMBER.pattern} {_WORD}|{_NUMBER.pattern}"))
# A sentence of a line, with the citations after its full stop ("$24.95" is not an end).
_PIECE = re.compile(r"\S.*?(?:[.!?](?:\s*\[\d+\])*(?=\s|$)|$)")


def translate(text: str, source: str, target: str, generator, *, max_new_tokens: int) -> str | None:
    """text (in source) in target, or None when no attempt kept its numbers. A text whose
    translation whole changed a number is translated again a sentence at a time (a small model
    keeps a sentence's numbers more often than a paragraph's), a sentence that still fails with
    its numbers held (`_held`), and kept if every sentence held."""
    whole = _translated(text, source, target, generator, max_new_tokens)
    if whole is not None:
        return whole
    lines = [_PIECE.findall(line) for line in text.splitlines()]
    one = sum(len(pieces) for pieces in lines) < 2  # one sentence: tried whole already
    translated = []
    for pieces in lines:
        done = [(None if one else _translated(piece, source, target, generator, max_new_tokens))
                or _held(piece, source, target, generator, max_new_tokens) for piece in pieces]
        if None in done:
            return None
        translated.append(" ".join(done))
    return "\n".join(translated)


def _translated(text: str, source: str, target: str, generator, max_new_tokens: int) -> str | None:
    """The first attempt's translation of text that keeps its numbers, or None."""
    for attempt in attempts(text, source, target):
        translation = "".join(generator.stream(attempt, max_new_tokens=max_new_tokens)).strip()
        if accepted(text, translation):
            return with_citations(text, translation)
    return None


def _held(text: str, source: str, target: str, generator, max_new_tokens: int) -> str | None:
    """text translated with its numbers held out (HELD: the numbers alone, then with their
    neighbouring words), each replaced by a placeholder the model copies and put back after;
    None when neither keeps them."""
    for pattern in HELD:
        held, spans = hold(text, pattern)
        if not spans:
            return None
        plain = attempts(held, source, target)[-1]  # the rules alone: the example's numbers are not placeholders
        translation = "".join(generator.stream(plain, max_new_tokens=max_new_tokens)).strip()
        restored = put_back(translation, spans)
        if restored is not None and accepted(text, restored):
            return with_citations(text, restored)
    return None


# Stand-ins for held numbers: bracketed like citations, which the model keeps.
PLACEHOLDERS = tuple(f"[{letter}]" for letter in "ABCDEFGHJKLMNPQRSTUVWXYZ")


def hold(text: str, pattern: re.Pattern) -> tuple[str, dict[str, str]]:
    """text with what pattern matches (outside citations) replaced by placeholders, and what
    each placeholder holds; nothing held when there are more matches than placeholders."""
    cited = [m.span() for m in CITATION.finditer(text)]
    found = [m for m in pattern.finditer(text) if not any(a <= m.start() < b for a, b in cited)]
    if len(found) > len(PLACEHOLDERS):
        return text, {}
    held, end, spans = [], 0, {}
    for match, placeholder in zip(found, PLACEHOLDERS):
        held += [text[end:match.start()], placeholder]
        spans[placeholder], end = match.group(), match.end()
    return "".join(held) + text[end:], spans


def put_back(translation: str, held: dict[str, str]) -> str | None:
    """translation with each placeholder replaced by what it held; None when one is missing
    or written twice (the model dropped or repeated what it stood for)."""
    if any(translation.count(placeholder) != 1 for placeholder in held):
        return None
    for placeholder, span in held.items():
        translation = translation.replace(placeholder, span)
    return translation


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


def accepted(original: str, translation: str) -> bool:
    """Whether translation may be shown for original: it is faithful, and not original left
    as written (a small model returns a table row such as "Zone: Europe; Countries: …"
    untouched now and then; a text of names and numbers alone reads the same in any language,
    and is accepted)."""
    if not faithful(original, translation):
        return False
    return _words(translation) != _words(original) or not _words(original)


def _words(text: str) -> list[str]:
    """text's words of letters that are not a name (lower-case: a name is capitalised)."""
    return [w for w in re.findall(r"[^\W\d_]+", text) if w.islower()]


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
