"""Find the evidence for a question: dense (FAISS) and keyword (BM25) candidates, fused into
one ranking by a relevance in [0, 1] that also says whether the evidence covers the
question at all.

Relevance is a logistic function of two signals that mean the same thing in any shop: the
cosine similarity of question and chunk, and the share of the question's term weight (idf)
that the chunk contains. The second is what finds a SKU or an order number that the
embedding misses. Ranking the union of both sides' candidates by it beats reciprocal rank
fusion on the dev set (the retrieval report shows both). Its weights were fitted by
logistic regression on the candidate chunks of the demo shop's dev questions, labelled by
whether they hold the question's key fact (classes weighted equally), with the bias set so
that 0.5 is the best coverage threshold there; `python -m evals run --suite relevance` refits
them and scores both on a shop they were not fitted on (reports/relevance.md: on it, the
top chunk is from a right document 0.877 of the time against 0.862 with the earlier weights,
which were fitted on the coverage decision alone and let a chunk holding the question's
common words outrank one that means it).
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from shopcore.schemas import Evidence
from knowledge.chunking import Chunk
from knowledge.embed import Embedder
from knowledge.index import Index
from knowledge.keyword import terms
from knowledge.spelling import Correction, Speller

MODES = ("hybrid", "dense", "keyword")
CANDIDATES = 40  # from each side before fusing
# relevance = sigmoid(bias + w_similarity * cosine + w_coverage * term coverage)
RELEVANCE_WEIGHTS = (-3.45, 5.14, 2.44)
COVERAGE_THRESHOLD = 0.5
VECTOR_CACHE_SIZE = 20_000  # sentence vectors kept for the focus step (1.5 KB each)
OWNER = re.compile(r"^[\w-]+'s?\s+(?=\S)")  # "Men's ", "Kids' " opening a product title
_WORD = re.compile(r"[^\W_]+(?:[-'°][^\W_]+)*")  # a word of a product name as text writes it


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # relevance to the query, 0..1 (>= COVERAGE_THRESHOLD: covers it)
    similarity: float  # cosine similarity of query and chunk embeddings
    coverage: float  # share of the query's term weight the chunk contains, 0..1


@dataclass(frozen=True)
class Mention:
    title: str  # the product's title in the catalog
    start: int  # where the text names it: text[start:end]
    end: int


def relevance_from(similarity: float, coverage: float, weights: tuple[float, float, float] = RELEVANCE_WEIGHTS) -> float:
    """The relevance in [0, 1] of a chunk with this similarity and term coverage (under other
    weights than the shipped ones: the relevance suite compares them)."""
    bias, w_similarity, w_coverage = weights
    return 1 / (1 + math.exp(-(bias + w_similarity * similarity + w_coverage * coverage)))


def covers(evidence: list[Evidence], threshold: float = COVERAGE_THRESHOLD) -> bool:
    """Whether any evidence is relevant enough to answer from (else: say so, offer a person)."""
    return any(item.score >= threshold for item in evidence)


@dataclass
class Retriever:
    index: Index
    embedder: Embedder
    language: str = "en"  # of the shop's documents: which words are real words to the speller
    # The last query's vector: a turn scores its orders and searches with the same question.
    _last_query: tuple[str, np.ndarray] | None = field(default=None, repr=False, compare=False)
    _vectors: OrderedDict = field(default_factory=OrderedDict, repr=False, compare=False)
    _cache_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _speller: Speller | None = field(default=None, repr=False, compare=False)
    _products: frozenset[str] | None = field(default=None, repr=False, compare=False)
    _titles: list[tuple[str, set[str]]] | None = field(default=None, repr=False, compare=False)
    _title_terms: dict[str, tuple[str, set[str]]] | None = field(default=None, repr=False, compare=False)

    @property
    def product_titles(self) -> frozenset[str]:
        """The titles of the catalog's products (read from the chunks once)."""
        if self._products is None:
            self._products = frozenset(c.title for c in self.index.chunks if c.doc_type == "product")
        return self._products

    def spell(self, query: str) -> Correction:
        """query with its misspellings of the shop's vocabulary corrected (knowledge/spelling.py)."""
        if self._speller is None:  # built once, from the chunks this retriever searches
            names = self.product_titles
            self._speller = Speller.of((f"{c.heading}\n{c.text}" for c in self.index.chunks), self.language,
                                       names | {OWNER.sub("", n) for n in names})
        return self._speller.correct(query)

    def product_named(self, text: str) -> str | None:
        """The title of the product text names (see `mention`), or None."""
        named = self.mention(text)
        return named.title if named else None

    def mention(self, text: str) -> Mention | None:
        """The product text names and where. Its title whole ("Women's Nimbus Synthetic
        Vest", also without its "Women's"), the longest if several; else, as shoppers write
        names, the first word of a name with more of its words ("the aspen 2p tent": the Aspen
        2P Backpacking Tent; "the 10 liter stream dry bag": the Stream Dry Bag 10 L): of those,
        the title of which the text has the most words, its owner's too ("mens couloir gtx pro
        shell": the men's). None if it names none, or a name that is two products' without
        saying whose ("Couloir GTX Pro Shell", "the nimbus vest": the men's and the women's)."""
        if self._titles is None:  # (name as text may write it, titles of that name) longest first
            names: dict[str, set[str]] = {}
            for title in self.product_titles:
                names.setdefault(title.lower(), set()).add(title)
                if OWNER.match(title):
                    names.setdefault(OWNER.sub("", title).lower(), set()).add(title)
            self._titles = sorted(names.items(), key=lambda n: -len(n[0]))
        lowered = f" {text.lower()} "
        for name, titles in self._titles:
            at = lowered.find(f" {name}")  # also the name's offset in text: one space was put before it
            if at >= 0 and len(titles) == 1:
                return Mention(next(iter(titles)), at, at + len(name))
            if at >= 0:  # two products' name: the owner as typed may tell ("mens thermograd synthetic crew")
                break
        return self._partly_named(text)

    def _partly_named(self, text: str) -> Mention | None:
        """The product whose name's first word and at least one more the text has (`mention`)."""
        if self._title_terms is None:  # title: (first term of its name, all its terms)
            self._title_terms = {}
            for title in self.product_titles:
                first = terms(OWNER.sub("", title))
                if first:
                    self._title_terms[title] = (first[0], set(terms(title)))
        words = [(m, set(terms(m.group(0)))) for m in _WORD.finditer(text)]
        have = set().union(*(found for _, found in words))
        scores = {title: len(have & every) for title, (first, every) in self._title_terms.items() if first in have}
        best = max(scores.values(), default=0)
        named = [title for title, score in scores.items() if score == best]
        if best < 2 or len(named) != 1:
            return None
        every = self._title_terms[named[0]][1]
        spans = [m for m, found in words if found & every]
        return Mention(named[0], spans[0].start(), spans[-1].end())

    def search(self, query: str, k: int = 5, *, mode: str = "hybrid",
               doc_types: list[str] | None = None, categories: list[str] | None = None,
               query_vector: np.ndarray | None = None) -> list[Hit]:
        """The k best chunks for query, best first, optionally only of some doc types or
        product categories; mode picks hybrid, dense-only or keyword-only search. Callers
        that embed many queries in one batch pass each one's query_vector."""
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}")
        if not self.index.chunks or not query.strip() or k <= 0:
            return []
        if query_vector is None:
            query_vector = self.query_vector(query)
        allowed = self.index.where(doc_types, categories)
        wanted = max(CANDIDATES, k)
        dense = self.index.dense(query_vector, wanted, allowed) if mode != "keyword" else []
        keyword = []
        if mode != "dense" and self.index.keyword is not None:
            mask = None if allowed is None else allowed.astype(np.float32)
            keyword = self.index.keyword.search(query, wanted, mask)
        candidates = list(dict.fromkeys([p for p, _ in dense] + [p for p, _ in keyword]))
        similarity = dict(dense)
        unseen = [p for p in candidates if p not in similarity]
        for position, vector in zip(unseen, self.index.stored_vectors(unseen)):
            similarity[position] = float(vector @ query_vector)
        coverage = dict(zip(candidates, self._row_coverage(query, candidates)))
        scores = {p: relevance_from(similarity[p], float(coverage[p])) for p in candidates}
        # A chunk holding an identifier the question names (its SKU) is what it asks about,
        # however short the question: the same rule as a named order number.
        for p in self._naming(query, candidates):
            scores[p] = 1.0
        ranking = {
            "dense": [p for p, _ in dense],
            "keyword": [p for p, _ in keyword],
            # Fusion: both sides' candidates ranked by relevance, a function of both signals.
            "hybrid": sorted(candidates, key=lambda p: -scores[p]),
        }[mode]
        return [Hit(self.index.chunks[p], scores[p], similarity[p], float(coverage[p])) for p in ranking[:k]]

    def evidence(self, query: str, k: int, **filters) -> list[Evidence]:
        """The k best chunks as prompt evidence, titled with their section; filters as search."""
        return [Evidence(hit.chunk.doc_id, hit.chunk.heading, hit.chunk.text, round(hit.score, 4))
                for hit in self.search(query, k, **filters)]

    def coverage(self, query: str, text: str) -> float:
        """Share of the query's term weight that text contains (0 with no keyword index)."""
        return self.index.keyword.coverage(query, text) if self.index.keyword is not None else 0.0

    def _row_coverage(self, query: str, positions: list[int]) -> np.ndarray:
        if self.index.keyword is None:
            return np.zeros(len(positions), dtype=np.float32)
        return self.index.keyword.row_coverage(query, positions)

    def _naming(self, query: str, positions: list[int]) -> list[int]:
        if self.index.keyword is None or not positions:
            return []
        return [p for p, named in zip(positions, self.index.keyword.naming(query, positions)) if named]

    def query_vector(self, query: str) -> np.ndarray:
        """The unit embedding of query (the last one is remembered)."""
        last = self._last_query
        if last is not None and last[0] == query:
            return last[1]
        vector = self.embedder.embed([query])[0]
        self._last_query = (query, vector)
        return vector

    def text_vectors(self, texts: list[str]) -> np.ndarray:
        """Unit embeddings of texts, one row each. Recently embedded texts come from a bounded
        cache: the focus step embeds the same chunks' sentences turn after turn."""
        with self._cache_lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:  # embedded outside the lock: other turns need not wait for this one
            known.update(zip(missing, self.embedder.embed(missing)))
        rows = np.stack([known[t] for t in texts])
        with self._cache_lock:
            self._vectors.update(known)
            for text in texts:
                self._vectors.move_to_end(text)
            while len(self._vectors) > VECTOR_CACHE_SIZE:
                self._vectors.popitem(last=False)
        return rows

    def relevance(self, query: str, text: str) -> float:
        """The relevance in [0, 1] of any text (an order, say) to query, on the chunks' scale."""
        similarity = float(self.query_vector(query) @ self.embedder.embed([text])[0])
        return relevance_from(similarity, self.coverage(query, text))
