"""How shoppers actually type: the same question plain, casual, with a greeting, or with a
typo. Seeded, so a data build is reproducible."""

from __future__ import annotations

import random

GREETINGS = ["hi, ", "hey ", "hello! ", "quick question: ", "hi there, ", "", "", ""]


def casual(question: str, rng: random.Random) -> str:
    """Lower case, a greeting maybe, and the question mark maybe gone."""
    text = question[0].lower() + question[1:] if question else question
    if rng.random() < 0.5:
        text = text.rstrip("?").rstrip()
    return rng.choice(GREETINGS) + text


def typo(question: str, rng: random.Random) -> str:
    """One slip of the fingers in a longer word: two letters swapped or one dropped."""
    words = question.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long_words:
        return question
    i = rng.choice(long_words)
    word = words[i]
    j = rng.randrange(1, len(word) - 2)
    words[i] = (word[:j] + word[j + 1] + word[j] + word[j + 2:]) if rng.random() < 0.5 else word[:j] + word[j + 1:]
    return " ".join(words)


def variants(question: str, rng: random.Random, count: int) -> list[str]:
    """`count` different phrasings of question, the plain one first."""
    found = [question]
    for style in (casual, typo, lambda q, r: typo(casual(q, r), r)):
        if len(found) >= count:
            break
        styled = style(question, rng)
        if styled not in found:
            found.append(styled)
    return found[:count]
