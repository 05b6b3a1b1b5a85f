"""Typo-tolerant matching of the shop's vocabulary: a misspelled word of a question becomes
the word of the shop's own documents it was meant to be ("trailhed jaket" -> "trailhead
jacket", "canda" -> "canada"), so keyword search and the embedding both find it.

The vocabulary is every word of the indexed chunks: product names, SKUs' words, policy
terms, place names; nothing is written for one shop. A word is corrected only when all of
these hold, so real words are never "corrected" into others:

- it is not in the shop's vocabulary and not a stop word or a bare contraction ("hows");
- it is not a common word of the shop's language (wordfreq's Zipf frequency below
  REAL_WORD_ZIPF: "boots", "kayak" and "colour" are real words, "jaket" is not);
- it has at least MIN_LENGTH letters and no digits (identifiers are matched whole elsewhere);
- a vocabulary word lies within MAX_EDITS (optimal string alignment distance: a swap
  "retrun" -> "return" is one edit; apostrophes aside, so "womesn" is one edit from
  "women's"), and among the closest ones the shop uses it most.

A product name is matched as a whole: typed with one of its words a real word one edit away
("bacon 350 headlamp" for the Beacon 350 Headlamp), it is written as the name when at least
NAME_EXACT of its other words are typed exactly (numbers always: "40°F" is never "20°F").

When no word of the shop's is that close, a common word of the language that one of the
shop's words extends may be ("wiegh" -> "weigh": the documents say "weight" but a shopper
asks how much something weighs). Only those: a common word the shop never uses, or uses
only in another form, is not one a shopper's typo is corrected into.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from knowledge.keyword import BARE_CONTRACTIONS

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
NAME_WORD = re.compile(r"[\w°]+(?:['’-][\w°]+)*'?")  # a word of a product name: "350", "40°F", "Men's"
MIN_LENGTH = 4
REAL_WORD_ZIPF = 3.0  # about once per million words: "parka" 2.9 is still corrected only if unseen
MIN_COUNT = 2  # a vocabulary word must occur this often in the shop's chunks to be a correction
COMMON_WORDS = 50_000  # the language's most common words a shop word may extend ("weigh" of "weight")
EXTENDS_BY = 3  # letters at most a shop word adds to a common word it extends
NAME_EXACT = 2  # words of a product name typed exactly for its others to be read as typos of it
COMMON_ZIPF = 3.5  # how common such a word must be (about three times per million words)


def max_edits(word: str) -> int:
    """Edits allowed for a word of this length: one up to seven letters, two beyond."""
    return 1 if len(word) < 8 else 2


@lru_cache(maxsize=200_000)
def zipf(word: str, language: str) -> float:
    """How common word is in language: wordfreq's Zipf scale (about 3: once per million words)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, language)


def _bare(word: str) -> str:
    return word.replace("'", "")


@dataclass(frozen=True)
class Correction:
    text: str  # the text with its misspellings replaced
    changes: tuple[tuple[str, str], ...]  # (as typed, corrected), in order


class Speller:
    """Corrects a question's misspellings to words of the shop's documents."""

    def __init__(self, counts: Counter[str], language: str = "en", names: Iterable[str] = ()):
        self.counts = counts
        self.language = language
        # The shop's product names, word by word, longest first.
        self.names = sorted({tuple(NAME_WORD.findall(n)) for n in names}, key=lambda n: (-len(n), n))
        self._words = [w for w, n in counts.items() if n >= MIN_COUNT and len(w) >= MIN_LENGTH - 1]
        self._choices = [_bare(w) for w in self._words]  # compared without apostrophes
        self._extended: list[str] | None = None  # common words the shop's words extend, made on first use

    @classmethod
    def of(cls, texts: Iterable[str], language: str = "en", names: Iterable[str] = ()) -> Speller:
        """The speller of a shop whose documents are texts and whose products are names."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(w.lower() for w in WORD.findall(text))
        return cls(counts, language, names)

    def suggest(self, word: str) -> str | None:
        """The vocabulary word a misspelled word was meant to be, or None to leave it."""
        lower = word.lower()
        if (len(lower) < MIN_LENGTH or lower in self.counts or lower in BARE_CONTRACTIONS
                or zipf(lower, self.language) >= REAL_WORD_ZIPF):
            return None
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        limit = max_edits(lower)
        found = process.extract(_bare(lower), self._choices, scorer=OSA.distance, score_cutoff=limit, limit=None)
        if found:
            closest = min(distance for _, distance, _ in found)
            return max((self._words[i] for _, distance, i in found if distance == closest),
                       key=lambda w: (self.counts[w], w))
        if len(lower) > MIN_LENGTH:  # a common word the shop's words extend, the most common one
            found = process.extract(lower, self.extended(), scorer=OSA.distance, score_cutoff=1, limit=None)
            return max(found, key=lambda f: (zipf(f[0], self.language), f[0]))[0] if found else None
        return None

    def extended(self) -> list[str]:
        """Common words of the language (at least MIN_LENGTH letters, Zipf COMMON_ZIPF) that a
        word of the shop extends by at most EXTENDS_BY letters, and that the shop does not use
        itself. Only a typed word longer than MIN_LENGTH is corrected into one, by one edit."""
        if self._extended is None:
            from bisect import bisect_left

            from wordfreq import top_n_list

            vocabulary = sorted(self._words)
            self._extended = []
            for word in top_n_list(self.language, COMMON_WORDS):
                if (len(word) < MIN_LENGTH or word in self.counts or not word.isalpha()
                        or zipf(word, self.language) < COMMON_ZIPF):
                    continue
                at = bisect_left(vocabulary, word)
                if any(0 < len(v) - len(word) <= EXTENDS_BY for v in vocabulary[at:at + 5] if v.startswith(word)):
                    self._extended.append(word)
        return self._extended

    def correct(self, text: str) -> Correction:
        """text with each misspelled word replaced by its correction (case kept for capitals)."""
        changes: list[tuple[str, str]] = []

        def fix(match: re.Match) -> str:
            word = match.group(0)
            suggestion = self.suggest(word)
            if suggestion is None:
                return word
            changes.append((word, suggestion))
            return suggestion.capitalize() if word[0].isupper() else suggestion

        return Correction(self._named(WORD.sub(fix, text), changes), tuple(changes))

    def _named(self, text: str, changes: list[tuple[str, str]]) -> str:
        """text with each product name typed with real-word typos written as the name."""
        from rapidfuzz.distance import OSA

        words = list(NAME_WORD.finditer(text))
        for name in self.names:
            wanted = [w.lower() for w in name]
            for i in range(len(words) - len(name) + 1):
                window = words[i:i + len(name)]
                typed = [w.group(0).lower() for w in window]
                exact = sum(a == b for a, b in zip(typed, wanted))
                if exact == len(name) or exact < NAME_EXACT or not all(
                        a == b or (b.isalpha() and len(b) >= MIN_LENGTH and OSA.distance(a, b) <= max_edits(b))
                        for a, b in zip(typed, wanted)):
                    continue
                start, end = window[0].start(), window[-1].end()
                changes.append((text[start:end], " ".join(name)))
                text = text[:start] + " ".join(name) + text[end:]
                words = list(NAME_WORD.finditer(text))
                break
        return text
