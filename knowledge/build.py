"""Build the knowledge index from folders of shop documents and the SQL catalog.

    python -m knowledge build [--source DIR ...] [--index DIR]

Builds are incremental: every document has a content hash, and a rebuild embeds only the
chunks of documents that are new or changed, removes the chunks of documents that are gone
or changed (by vector id), keeps every other vector as it is, and reports what it did. A
new embedding model or chunk size means a full rebuild; so does `full=True`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from knowledge import vectors as faiss_structures
from knowledge.chunking import MAX_TOKENS, OVERLAP_TOKENS, Chunk, chunk_document
from knowledge.documents import Document, Skipped, catalog_documents, read_folder
from knowledge.embed import Embedder
from knowledge.index import FORMAT, Index, IndexNotBuilt, write_lock
from knowledge.keyword import TERMS_VERSION, KeywordIndex

EXACT_MAX_CHUNKS = 50_000  # default for CHATBOT_EXACT_INDEX_MAX_CHUNKS


class SourceMissing(Exception):
    """A --source folder does not exist."""


@dataclass
class BuildReport:
    documents: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    embedded: int = 0  # chunks embedded by this build
    kind: str = "exact"
    nprobe: int | None = None
    recall: float | None = None  # approximate index: recall@10 against exact search
    written: bool = False
    seconds: float = 0.0
    skipped: list[Skipped] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What the build did, for people."""
        unchanged = self.documents - len(self.added) - len(self.updated)
        out = [f"documents: {self.documents} ({len(self.added)} added, {len(self.updated)} updated, "
               f"{len(self.removed)} removed, {unchanged} unchanged)"]
        out.append(f"chunks: {self.chunks} in the index, {self.embedded} embedded by this build")
        if self.kind == "ivf":
            out.append(f"index: approximate (IVF), nprobe {self.nprobe}, recall@10 against exact "
                       f"search {self.recall:.3f}")
        else:
            out.append("index: exact inner-product search")
        out += [f"  {verb} {doc_id}" for verb, ids in (("added", self.added), ("updated", self.updated),
                                                      ("removed", self.removed)) for doc_id in ids[:20]]
        out.append(("wrote a new index generation" if self.written else "index already up to date")
                   + f" in {self.seconds:.1f} s")
        out += [f"skipped {s.path}: {s.reason}" for s in self.skipped]
        return out


def collect_documents(
    sources: list[Path], sessions: sessionmaker[Session] | None
) -> tuple[list[Document], list[Skipped]]:
    """Every document in the source folders and the catalog; a repeated id is skipped."""
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
    unique, seen = [], set()
    for document in documents:
        if document.doc_id in seen:
            skipped.append(Skipped(document.doc_id, "duplicate document id (an earlier source has it)"))
            continue
        seen.add(document.doc_id)
        unique.append(document)
    return unique, skipped


def build_index(
    sources: list[Path],
    index_dir: Path,
    embedder: Embedder,
    sessions: sessionmaker[Session] | None = None,
    *,
    exact_max: int = EXACT_MAX_CHUNKS,
    full: bool = False,
) -> BuildReport:
    """Bring the index in index_dir up to date with the sources, embedding only what changed."""
    started = time.perf_counter()
    with write_lock(index_dir):
        documents, skipped = collect_documents(sources, sessions)
        chunking = {"max_tokens": min(MAX_TOKENS, embedder.max_tokens - 2), "overlap_tokens": OVERLAP_TOKENS}
        previous = None if full else _reusable(index_dir, embedder, chunking)
        report = _compare(documents, previous.document_hashes if previous else {}, skipped)
        # Keyword terms from an older tokenizer are re-indexed; the vectors are kept.
        stale_terms = previous is not None and previous.manifest.get("keyword_terms") != TERMS_VERSION
        if previous and not (report.added or report.updated or report.removed or stale_terms):
            report.chunks, report.kind = len(previous.chunks), previous.manifest["kind"]
            report.nprobe, report.recall = previous.manifest.get("nprobe"), previous.manifest.get("recall_at_10")
        else:
            _write(documents, previous, report, index_dir, embedder, chunking, exact_max)
    report.seconds = time.perf_counter() - started
    return report


def _compare(documents: list[Document], old_hashes: dict[str, str], skipped) -> BuildReport:
    """Which documents are new, changed and gone, by content hash."""
    new_hashes = {d.doc_id: d.content_hash for d in documents}
    return BuildReport(
        documents=len(documents), skipped=skipped,
        added=[d for d in new_hashes if d not in old_hashes],
        updated=[d for d, h in new_hashes.items() if d in old_hashes and old_hashes[d] != h],
        removed=[d for d in old_hashes if d not in new_hashes],
    )


def _write(documents, previous: Index | None, report: BuildReport, index_dir: Path,
           embedder: Embedder, chunking: dict, exact_max: int) -> None:
    """Embed the new and changed documents' chunks, update the vectors, save a generation."""
    changed = set(report.added) | set(report.updated)
    current = {d.doc_id for d in documents}
    kept = [(i, c) for i, c in zip(previous.ids, previous.chunks)
            if c.doc_id in current and c.doc_id not in changed] if previous else []
    fresh = [c for d in tqdm(documents, desc="chunking", unit="doc", leave=False)
             if d.doc_id in changed for c in chunk_document(d, embedder.count_tokens, **chunking)]
    embeddings = (embedder.embed([c.embedding_text() for c in fresh], progress=len(fresh) > 64)
                  if fresh else np.zeros((0, embedder.dim), dtype=np.float32))
    next_id = int(previous.manifest["next_id"]) if previous else 0
    fresh_ids = np.arange(next_id, next_id + len(fresh), dtype=np.int64)
    chunks, ids = _in_document_order(documents, kept, list(zip(fresh_ids, fresh)))
    structure, tuning = _vector_structure(previous, ids, fresh_ids, embeddings, embedder.dim, exact_max)
    manifest = {
        "format": FORMAT, "embedding_model": embedder.model_id, "dim": embedder.dim,
        "chunking": chunking, "keyword_terms": TERMS_VERSION, **tuning, "chunks": len(chunks),
        "documents": {d.doc_id: d.content_hash for d in documents},
        "next_id": next_id + len(fresh), "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    keyword = KeywordIndex.build([c.embedding_text() for c in chunks]) if chunks else None
    Index(structure, chunks, ids, keyword, manifest).save(index_dir)
    report.chunks, report.embedded, report.written = len(chunks), len(fresh), True
    report.kind, report.nprobe, report.recall = tuning["kind"], tuning.get("nprobe"), tuning.get("recall_at_10")


def _reusable(index_dir: Path, embedder: Embedder, chunking: dict) -> Index | None:
    """The current index if its vectors can be kept: same embedding model and chunking."""
    try:
        previous = Index.load(index_dir)
    except IndexNotBuilt:
        return None
    same = (previous.manifest.get("embedding_model") == embedder.model_id
            and previous.manifest.get("chunking") == chunking)
    return previous if same else None


def _in_document_order(documents, kept, fresh) -> tuple[list[Chunk], np.ndarray]:
    by_document: dict[str, list[tuple[int, Chunk]]] = {}
    for vector_id, chunk in kept + fresh:
        by_document.setdefault(chunk.doc_id, []).append((int(vector_id), chunk))
    ordered = [pair for d in documents for pair in by_document.get(d.doc_id, [])]
    return [c for _, c in ordered], np.array([i for i, _ in ordered], dtype=np.int64)


def _vector_structure(previous: Index | None, ids: np.ndarray, fresh_ids: np.ndarray,
                      embeddings: np.ndarray, dim: int, exact_max: int):
    """The FAISS structure for the new chunk set: the previous one with stale vectors removed
    and fresh ones added when it still fits the size, else a new one over all vectors."""
    kind = faiss_structures.kind_for(len(ids), exact_max)
    structure = previous.vectors if previous is not None else None
    same_kind = structure is not None and faiss_structures.is_ivf(structure) == (kind == "ivf")
    # An IVF index trained on far fewer vectors has lists too long to probe quickly.
    outgrown = same_kind and kind == "ivf" and structure.nlist < faiss_structures.ivf_lists(len(ids)) / 2
    if same_kind and not outgrown:
        stale = np.setdiff1d(previous.ids, ids)
        if len(stale):
            structure.remove_ids(stale)
        if len(fresh_ids):
            structure.add_with_ids(embeddings, fresh_ids)
    else:
        all_vectors = _gather(previous, ids, fresh_ids, embeddings, dim)
        structure = faiss_structures.new_structure(kind, dim, all_vectors)
        if len(ids):
            structure.add_with_ids(all_vectors, ids)
    if kind == "exact":
        return structure, {"kind": "exact"}
    all_vectors = structure.reconstruct_batch(ids)
    nprobe, recall = faiss_structures.tune_nprobe(structure, all_vectors, ids)
    return structure, {"kind": "ivf", "nlist": int(structure.nlist), "nprobe": nprobe, "recall_at_10": recall}


def _gather(previous: Index | None, ids, fresh_ids, embeddings, dim) -> np.ndarray:
    """Vectors for ids, in order: fresh ones from embeddings, the rest from the previous index."""
    out = np.zeros((len(ids), dim), dtype=np.float32)
    fresh_row = {int(i): n for n, i in enumerate(fresh_ids)}
    old = [n for n, i in enumerate(ids) if int(i) not in fresh_row]
    if old:
        out[old] = previous.vectors.reconstruct_batch(ids[old])
    for n, i in enumerate(ids):
        if int(i) in fresh_row:
            out[n] = embeddings[fresh_row[int(i)]]
    return out
