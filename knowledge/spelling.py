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
  "retrun" -> "return" is one edit), and among the closest ones the shop uses it most.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from knowledge.keyword import BARE_CONTRACTIONS

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
MIN_LENGTH = 4
REAL_WORD_ZIPF = 3.0  # about once per million words: "parka" 2.9 is still corrected only if unseen
MIN_COUNT = 2  # a vocabulary word must occur this often in the shop's chunks to be a correction


def max_edits(word: str) -> int:
    """Edits allowed for a word of this length: one up to seven letters, two beyond."""
    return 1 if len(word) < 8 else 2


@lru_cache(maxsize=200_000)
def zipf(word: str, language: str) -> float:
    """How common word is in language: wordfreq's Zipf scale (about 3: once per million words)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, language)


@dataclass(frozen=True)
class Correction:
    text: str  # the text with its misspellings replaced
    changes: tuple[tuple[str, str], ...]  # (as typed, corrected), in order


class Speller:
    """Corrects a question's misspellings to words of the shop's documents."""

    def __init__(self, counts: Counter[str], language: str = "en"):
        self.counts = counts
        self.language = language
        self._choices = [w for w, n in counts.items() if n >= MIN_COUNT and len(w) >= MIN_LENGTH - 1]

    @classmethod
    def of(cls, texts: Iterable[str], language: str = "en") -> Speller:
        """The speller of a shop whose documents are texts."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(w.lower() for w in WORD.findall(text))
        return cls(counts, language)

    def suggest(self, word: str) -> str | None:
        """The vocabulary word a misspelled word was meant to be, or None to leave it."""
        lower = word.lower()
        if (len(lower) < MIN_LENGTH or lower in self.counts or lower in BARE_CONTRACTIONS
                or zipf(lower, self.language) >= REAL_WORD_ZIPF):
            return None
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        limit = max_edits(lower)
        found = process.extract(lower, self._choices, scorer=OSA.distance, score_cutoff=limit, limit=None)
        if not found:
            return None
        closest = min(distance for _, distance, _ in found)
        return max((w for w, distance, _ in found if distance == closest), key=lambda w: (self.counts[w], w))

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

        return Correction(WORD.sub(fix, text), tuple(changes))
