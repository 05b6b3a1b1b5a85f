"""Build the knowledge index from folders of shop documents and the SQL catalog."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from knowledge.chunking import chunk_document
from knowledge.documents import Document, Skipped, catalog_documents, read_folder
from knowledge.embed import Embedder
from knowledge.index import Index


class SourceMissing(Exception):
    """A --source folder does not exist."""


@dataclass
class BuildReport:
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0
    skipped: list[Skipped] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"indexed {self.documents} documents as {self.chunks} chunks in {self.seconds:.1f} s"]
        out += [f"skipped {s.path}: {s.reason}" for s in self.skipped]
        return out


def collect_documents(
    sources: list[Path], sessions: sessionmaker[Session] | None
) -> tuple[list[Document], list[Skipped]]:
    documents, skipped = [], []
    for folder in sources:
        if not folder.is_dir():
            raise SourceMissing(f"source folder {folder} does not exist")
        found, passed_over = read_folder(folder)
        documents += found
        skipped += passed_over
    if sessions is not None:
        with sessions() as session:
            documents += catalog_documents(session)
    return documents, skipped


def build_index(
    sources: list[Path],
    index_dir: Path,
    embedder: Embedder,
    sessions: sessionmaker[Session] | None = None,
) -> BuildReport:
    """Chunk and embed every document, then write the index to index_dir."""
    started = time.perf_counter()
    documents, skipped = collect_documents(sources, sessions)
    chunks = [c for d in tqdm(documents, desc="chunking", unit="doc") for c in chunk_document(d)]
    embeddings = embedder.embed([c.embedding_text() for c in chunks], progress=True)
    Index.build(chunks, embeddings, embedder.model_id).save(index_dir)
    return BuildReport(len(documents), len(chunks), time.perf_counter() - started, skipped)
