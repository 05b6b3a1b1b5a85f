"""The knowledge index on disk: chunk vectors (FAISS), the chunks, their keyword index and a
manifest, written as one generation at a time.

Layout of an index folder:

    CURRENT              name of the live generation, replaced atomically
    gen-000007/          manifest.json, vectors.faiss, chunks.jsonl, keyword/
    gen-000006/          the previous generation, kept for readers still loading it

A build writes a new generation beside the live one and then swaps CURRENT with one
rename, so a reader sees the old index or the new one, never half of either. Builds take
an exclusive lock on the folder, so two builds never interleave.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import faiss
import numpy as np

from knowledge import vectors as faiss_structures
from knowledge.chunking import Chunk
from knowledge.keyword import KeywordIndex

INDEX_FILE, CHUNKS_FILE, MANIFEST_FILE = "vectors.faiss", "chunks.jsonl", "manifest.json"
CURRENT_FILE, LOCK_FILE, FORMAT = "CURRENT", ".lock", 2
KEEP_GENERATIONS = 2


class IndexNotBuilt(Exception):
    """The index folder is missing, unreadable or incomplete."""


class Index:
    """Chunks with their vector ids, the FAISS structure over the vectors, and BM25."""

    def __init__(self, vectors: faiss.Index, chunks: list[Chunk], ids: np.ndarray,
                 keyword: KeywordIndex | None, manifest: dict, device: str = "cpu"):
        self.vectors = vectors  # the CPU structure: the one saved, updated and reconstructed
        self.chunks = chunks
        self.ids = np.asarray(ids, dtype=np.int64)
        self.keyword = keyword
        self.manifest = manifest
        self.position = {int(i): n for n, i in enumerate(self.ids)}
        self.device = device
        self._searcher = faiss_structures.on_device(vectors, device, self.nprobe) if chunks else vectors

    @property
    def nprobe(self) -> int:
        return int(self.manifest.get("nprobe", 1))

    @property
    def document_hashes(self) -> dict[str, str]:
        return self.manifest.get("documents", {})

    def dense(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(position, cosine) of the k chunks nearest a unit query vector, best first;
        allowed, if given, is a boolean mask over positions."""
        if not self.chunks or k <= 0:
            return []
        allowed_ids = None if allowed is None else self.ids[allowed]
        if allowed_ids is not None and not len(allowed_ids):
            return []
        searcher = self._searcher if allowed_ids is None else self.vectors
        scores, ids = faiss_structures.search(searcher, query.reshape(1, -1), min(k, len(self.chunks)),
                                              nprobe=self.nprobe, allowed_ids=allowed_ids)
        return [(self.position[int(i)], float(s)) for s, i in zip(scores[0], ids[0]) if i >= 0]

    def stored_vectors(self, positions: list[int]) -> np.ndarray:
        """The stored unit vectors of the chunks at positions."""
        if not positions:
            return np.zeros((0, self.vectors.d), dtype=np.float32)
        return self.vectors.reconstruct_batch(self.ids[np.asarray(positions)])

    def where(self, doc_types: list[str] | None = None, categories: list[str] | None = None) -> np.ndarray | None:
        """Mask over positions of the chunks that pass the filters; None when there are none."""
        if not doc_types and not categories:
            return None
        types = {t.lower() for t in doc_types or []}
        cats = {c.lower() for c in categories or []}
        return np.array([(not types or c.doc_type.lower() in types)
                         and (not cats or str(c.metadata.get("category", "")).lower() in cats)
                         for c in self.chunks], dtype=bool)

    def save(self, folder: Path) -> Path:
        """Write this index as the folder's next generation and make it the live one."""
        folder.mkdir(parents=True, exist_ok=True)
        generations = _generations(folder)
        name = f"gen-{(int(generations[-1].name[4:]) if generations else 0) + 1:06d}"
        staging = Path(tempfile.mkdtemp(dir=folder, prefix=f".{name}-"))
        try:
            faiss.write_index(self.vectors, str(staging / INDEX_FILE))
            with open(staging / CHUNKS_FILE, "w", encoding="utf-8") as out:
                for vector_id, chunk in zip(self.ids, self.chunks):
                    out.write(json.dumps({"id": int(vector_id), **asdict(chunk)}, ensure_ascii=False) + "\n")
            if self.keyword is not None:
                self.keyword.save(staging)
            (staging / MANIFEST_FILE).write_text(json.dumps(self.manifest, indent=1))
            staging.rename(folder / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        pointer = folder / f".{CURRENT_FILE}.tmp"
        pointer.write_text(name)
        os.replace(pointer, folder / CURRENT_FILE)  # the moment the new index goes live
        _prune(folder, name)
        return folder / name

    @classmethod
    def load(cls, folder: Path, device: str = "cpu") -> Index:
        """The live generation in folder; IndexNotBuilt says how to fix a missing or broken one."""
        hint = "run `python -m knowledge build`"
        try:
            live = folder / (folder / CURRENT_FILE).read_text().strip()
            manifest = json.loads((live / MANIFEST_FILE).read_text())
            if manifest.get("format") != FORMAT:
                raise ValueError(f"index format {manifest.get('format')}, expected {FORMAT}")
            vectors = faiss.read_index(str(live / INDEX_FILE))
            ids, chunks = [], []
            with open(live / CHUNKS_FILE, encoding="utf-8") as lines:
                for line in lines:
                    record = json.loads(line)
                    ids.append(record.pop("id"))
                    chunks.append(Chunk(**record))
            keyword = KeywordIndex.load(live) if chunks else None
        except (OSError, ValueError, RuntimeError, TypeError, KeyError) as exc:
            raise IndexNotBuilt(f"no usable knowledge index in {folder} ({exc}); {hint}") from None
        if vectors.ntotal != len(chunks):
            raise IndexNotBuilt(f"index in {folder} is inconsistent; {hint}")
        return cls(vectors, chunks, np.array(ids, dtype=np.int64), keyword, manifest, device)


@contextmanager
def write_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's build lock: a second build waits instead of interleaving."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _generations(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("gen-*") if p.is_dir() and p.name[4:].isdigit())


def _prune(folder: Path, live: str) -> None:
    """Drop generations older than the previous one, leftovers of crashed builds, and the
    single-folder layout of the first index format."""
    for old in _generations(folder)[:-KEEP_GENERATIONS]:
        if old.name != live:
            shutil.rmtree(old, ignore_errors=True)
    for leftover in folder.glob(".gen-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for legacy in (INDEX_FILE, CHUNKS_FILE, MANIFEST_FILE):
        (folder / legacy).unlink(missing_ok=True)
