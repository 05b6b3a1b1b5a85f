"""The FAISS structure over chunk vectors, chosen by size and device.

Up to `exact_max` vectors: exact inner product (`IndexIDMap2` over `IndexFlatIP`). Above
it: IVF (`IndexIVFFlat`, about sqrt(n) lists), with `nprobe` chosen at build time as the
smallest that finds at least TUNING_RECALL of the exact top 10 on sampled queries, and that
recall kept in the manifest. The tuning target sits above the 0.95 the product promises
because shoppers' questions lie farther from the chunks than sampled queries do (the
retrieval_bench suite measures recall on real dev questions). Both keep 64-bit chunk ids, so a rebuild removes and adds
only the chunks that changed, and both give a stored vector back by id.

With faiss-gpu (the `gpu` extra) and a CUDA device, searches run on a GPU copy; the CPU
index stays the one that is saved, updated and read back.
"""

from __future__ import annotations

import math
import sys

import faiss
import numpy as np

TUNING_RECALL = 0.98
RECALL_AT = 10
TUNING_QUERIES = 200
NPROBES = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)


def kind_for(count: int, exact_max: int) -> str:
    """'exact' for small indexes, 'ivf' above exact_max vectors."""
    return "exact" if count <= exact_max else "ivf"


def ivf_lists(count: int) -> int:
    """IVF list count for count vectors: about sqrt(n), so a probe scans about sqrt(n) vectors."""
    return int(min(65536, max(16, round(math.sqrt(count)))))


def new_structure(kind: str, dim: int, vectors: np.ndarray) -> faiss.Index:
    """An empty structure of kind, trained on vectors where it needs training."""
    if kind == "exact":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    nlist = ivf_lists(len(vectors))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    # k-means needs ~40 points per list; more only slows training down.
    sample = np.random.default_rng(0).permutation(len(vectors))[: nlist * 64]
    index.train(np.ascontiguousarray(vectors[np.sort(sample)]))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by id
    return index


def is_ivf(index: faiss.Index) -> bool:
    return isinstance(index, faiss.IndexIVF)


def tune_nprobe(index: faiss.Index, vectors: np.ndarray, ids: np.ndarray) -> tuple[int, float]:
    """The smallest nprobe whose recall@10 against exact search reaches TUNING_RECALL.

    Queries are sums of three random indexed vectors: near the data, like real questions,
    but not on an indexed point, which would flatter the approximate index.
    """
    rng = np.random.default_rng(1)
    n = min(TUNING_QUERIES, len(vectors))
    queries = vectors[rng.integers(0, len(vectors), size=(n, 3))].sum(axis=1)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True) + 1e-12
    truth = exact_neighbours(vectors, ids, queries, RECALL_AT)
    recall = 0.0
    for nprobe in (p for p in NPROBES if p <= index.nlist):
        found = search(index, queries, RECALL_AT, nprobe=nprobe)[1]
        recall = recall_at(found, truth)
        if recall >= TUNING_RECALL:
            return nprobe, recall
    return index.nlist, recall_at(search(index, queries, RECALL_AT, nprobe=index.nlist)[1], truth)


def exact_neighbours(vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Ids of the exact top k of each query (brute force, for measuring recall)."""
    _, positions = faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
    return np.where(positions >= 0, ids[np.clip(positions, 0, None)], -1)


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each query's true neighbours that were found."""
    hits = [len(set(f[f >= 0]) & set(t[t >= 0])) / max(1, (t >= 0).sum()) for f, t in zip(found, truth)]
    return float(np.mean(hits)) if hits else 1.0


def search(index, queries: np.ndarray, k: int, *, nprobe: int = 1,
           allowed_ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of the k nearest, optionally only among allowed_ids."""
    selector = faiss.IDSelectorBatch(allowed_ids.astype(np.int64)) if allowed_ids is not None else None
    if is_ivf(index):
        params = faiss.SearchParametersIVF(nprobe=nprobe, sel=selector)
    elif selector is not None:
        params = faiss.SearchParameters(sel=selector)
    else:
        params = None
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k, params=params)


def on_device(index: faiss.Index, device: str, nprobe: int) -> faiss.Index:
    """A GPU copy of index for unfiltered searches when device allows CUDA and faiss-gpu
    sees a GPU; otherwise index itself. (GPU indexes take no ID selector, so filtered
    searches stay on the CPU index.)"""
    if device == "cpu" or not hasattr(faiss, "StandardGpuResources") or faiss.get_num_gpus() == 0:
        if device == "cuda":
            print("warning: CHATBOT_DEVICE=cuda but faiss has no GPU here "
                  "(install the `gpu` extra); searching on the CPU", file=sys.stderr)
        return index
    resources = faiss.StandardGpuResources()
    gpu_index = faiss.index_cpu_to_gpu(resources, 0, index)
    gpu_index.referenced_resources = resources  # keep the resources alive with the index
    if is_ivf(index):
        faiss.GpuParameterSpace().set_index_parameter(gpu_index, "nprobe", nprobe)
    return gpu_index
