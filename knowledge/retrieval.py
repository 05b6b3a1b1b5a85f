"""Find the evidence for a question: the shop's chunks most related to it."""

from __future__ import annotations

from dataclasses import dataclass

from chatbot.schemas import Evidence
from knowledge.embed import Embedder
from knowledge.index import Hit, Index


@dataclass
class Retriever:
    index: Index
    embedder: Embedder

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The k best chunks for query, best first."""
        return self.index.search(self.embedder.embed([query])[0], k)

    def evidence(self, query: str, k: int) -> list[Evidence]:
        """The k best chunks as prompt evidence, titled with their section."""
        return [
            Evidence(
                hit.chunk.doc_id,
                f"{hit.chunk.title} > {hit.chunk.section}" if hit.chunk.section else hit.chunk.title,
                hit.chunk.text,
                hit.score,
            )
            for hit in self.search(query, k)
        ]
