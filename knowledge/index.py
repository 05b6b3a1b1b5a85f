"""The FAISS index of chunk embeddings, with the chunks themselves, saved in one folder.

Layout of an index folder: `vectors.faiss` (inner-product index over unit vectors),
`chunks.jsonl` (one chunk per line, in vector order) and `manifest.json` (embedding model,
dimension, counts, build time). A folder is written beside the target and renamed into
place, so a reader never sees half an index.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from knowledge.chunking import Chunk

INDEX_FILE, CHUNKS_FILE, MANIFEST_FILE = "vectors.faiss", "chunks.jsonl", "manifest.json"


class IndexNotBuilt(Exception):
    """The index folder is missing, unreadable or incomplete."""


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # cosine similarity of query and chunk, -1..1


class Index:
    def __init__(self, vectors: faiss.Index, chunks: list[Chunk], manifest: dict):
        self.vectors = vectors
        self.chunks = chunks
        self.manifest = manifest

    @classmethod
    def build(cls, chunks: list[Chunk], embeddings: np.ndarray, embedding_model: str) -> Index:
        vectors = faiss.IndexFlatIP(embeddings.shape[1])
        vectors.add(embeddings)
        manifest = {
            "embedding_model": embedding_model,
            "dim": int(embeddings.shape[1]),
            "chunks": len(chunks),
            "documents": len({c.doc_id for c in chunks}),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        return cls(vectors, chunks, manifest)

    def search(self, query: np.ndarray, k: int) -> list[Hit]:
        """The k chunks most similar to a unit query vector, best first."""
        if not self.chunks:
            return []
        scores, ids = self.vectors.search(query.reshape(1, -1).astype(np.float32), k)
        return [Hit(self.chunks[i], float(s)) for s, i in zip(scores[0], ids[0]) if i >= 0]

    def save(self, folder: Path) -> None:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
        try:
            faiss.write_index(self.vectors, str(staging / INDEX_FILE))
            with open(staging / CHUNKS_FILE, "w", encoding="utf-8") as out:
                for chunk in self.chunks:
                    out.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
            (staging / MANIFEST_FILE).write_text(json.dumps(self.manifest, indent=2))
            # Swap folders: the old one moves aside first, so the target is never partial.
            retired = None
            if folder.exists():
                retired = folder.with_name(f".{folder.name}-old-{time.time_ns()}")
                folder.rename(retired)
            staging.rename(folder)
            if retired:
                shutil.rmtree(retired, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> Index:
        try:
            manifest = json.loads((folder / MANIFEST_FILE).read_text())
            vectors = faiss.read_index(str(folder / INDEX_FILE))
            with open(folder / CHUNKS_FILE, encoding="utf-8") as lines:
                chunks = [Chunk(**json.loads(line)) for line in lines]
        except (OSError, ValueError, RuntimeError, TypeError) as exc:
            raise IndexNotBuilt(
                f"no usable knowledge index in {folder} ({exc}); run `python -m knowledge build`"
            ) from None
        if vectors.ntotal != len(chunks):
            raise IndexNotBuilt(f"index in {folder} is inconsistent; rebuild it")
        return cls(vectors, chunks, manifest)
