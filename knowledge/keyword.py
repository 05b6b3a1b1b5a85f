"""Keyword search over chunks: BM25 from bm25s (sparse matrices, milliseconds at a million
chunks), with identifiers such as SKUs and order numbers kept whole.

Terms are lower-cased, stop words dropped and words stemmed (Snowball), so "refunded"
finds "refund". A hyphenated identifier (`RO-JKT-0004`) is one term and also its parts, so
the exact SKU ranks first and its product family next. Words that only build a question
or a condition ("how long", "as long as", "how much") are not terms: "How long do I have to
return an item?" is not about a sentence that says "as long as they are in stock".
Contractions typed without their apostrophe ("whats", "dont", "im") are stop words too:
with the apostrophe they split into stop words already, and without it "whats RO-FLC-0001"
weighed an unknown word "what" as heavily as the SKU.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

TERM = re.compile(r"[a-z0-9]+(?:[-_./][a-z0-9]+)*")
PARTS = re.compile(r"[-_./]")
# "how long/much/many/often/far/soon" asks for a measure; "as long as" and the like join clauses.
FUNCTION_PHRASES = re.compile(r"\b(?:how (?:long|much|many|often|far|soon)|as (?:long|soon|far|much|many|well) as)\b")
# English contractions as shoppers type them on a phone, without the apostrophe.
BARE_CONTRACTIONS = frozenset(
    "whats wheres hows whos whens whys thats theres heres lets im ive youre youve youll theyre theyve "
    "weve dont doesnt didnt cant wont isnt arent wasnt werent havent hasnt hadnt shouldnt couldnt "
    "wouldnt".split())
KEYWORD_DIR = "keyword"
TERMS_VERSION = 3  # bump when `terms` changes: `knowledge build` then re-indexes the keywords


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS) | BARE_CONTRACTIONS


def terms(text: str) -> list[str]:
    """The keyword terms of text, in order (identifiers whole and in parts)."""
    stop, out = _stopwords(), []
    for token in TERM.findall(FUNCTION_PHRASES.sub(" ", text.lower())):
        if PARTS.search(token):
            out.append(token)
            out += _stemmer().stemWords([p for p in PARTS.split(token) if p and p not in stop])
        elif token not in stop:
            out.append(_stemmer().stemWord(token))
    return out


class KeywordIndex:
    """BM25 over chunk texts; row n is the n-th chunk of the index it belongs to."""

    def __init__(self, bm25):
        self.bm25 = bm25
        indptr = np.asarray(bm25.scores["indptr"])
        self.size = int(bm25.scores["num_docs"])
        # Document frequency per vocabulary term, for the idf weights of `coverage`.
        self._df = np.diff(indptr)

    @classmethod
    def build(cls, texts: list[str]) -> KeywordIndex:
        import bm25s

        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        seen: dict[str, list[str]] = {}  # boilerplate repeats: tokenize each distinct text once
        for text in texts:
            if text not in seen:
                # bm25s needs at least one term per document; an empty one gets a term no query has.
                seen[text] = terms(text) or ["\x00"]
        bm25.index([seen[text] for text in texts], show_progress=False)
        return cls(bm25)

    def scores(self, query: str, mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every row for query (0 where no term matches or mask is 0)."""
        ids = self.bm25.get_tokens_ids(terms(query))
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return self.bm25.get_scores_from_ids(ids, weight_mask=mask)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) of the k best-scoring rows with a positive score, best first."""
        scores = self.scores(query, mask)
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k] if k else np.array([], dtype=int)
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(row), float(scores[row])) for row in top if scores[row] > 0]

    def naming(self, query: str, rows: list[int]) -> np.ndarray:
        """Which rows contain an identifier the query names whole (a SKU, a part number:
        a term with a separator and a digit), as booleans."""
        out = np.zeros(len(rows), dtype=bool)
        for term in {t for t in terms(query) if PARTS.search(t) and any(c.isdigit() for c in t)}:
            out |= self._holding(term, np.asarray(rows))
        return out

    def idf(self, term: str) -> float:
        """Inverse document frequency; a term no chunk has gets the highest."""
        token = self.bm25.vocab_dict.get(term)
        df = int(self._df[token]) if token is not None and token < len(self._df) else 0
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def coverage(self, query: str, text: str) -> float:
        """Share of the query's term weight (idf) that text contains, in [0, 1]."""
        wanted = set(terms(query))
        if not wanted:
            return 0.0
        present = set(terms(text))
        weights = {t: self.idf(t) for t in wanted}
        return sum(w for t, w in weights.items() if t in present) / sum(weights.values())

    def row_coverage(self, query: str, rows: list[int]) -> np.ndarray:
        """`coverage` of the query by each indexed row, read off the BM25 matrix (no re-tokenizing)."""
        wanted = set(terms(query))
        out = np.zeros(len(rows), dtype=np.float32)
        if not wanted or not rows:
            return out
        rows_array = np.asarray(rows)
        total = 0.0
        for term in wanted:
            weight = self.idf(term)
            total += weight
            out += weight * self._holding(term, rows_array)
        return out / total

    def _holding(self, term: str, rows: np.ndarray) -> np.ndarray:
        """Which of rows contain term, as booleans, read off the BM25 matrix's postings."""
        indptr, indices = self.bm25.scores["indptr"], self.bm25.scores["indices"]
        token = self.bm25.vocab_dict.get(term)
        if token is None or token >= len(indptr) - 1:
            return np.zeros(len(rows), dtype=bool)
        return np.isin(rows, indices[indptr[token]:indptr[token + 1]])

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder / KEYWORD_DIR))

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder / KEYWORD_DIR)))
