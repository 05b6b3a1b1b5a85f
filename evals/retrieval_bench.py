"""Retrieval benchmark: build time, query latency (embedding the query plus search), memory,
and approximate-vs-exact recall@10, at 10k, 100k and 1M chunks.

    python -m evals run --suite retrieval_bench
    EVALS_BENCH_SIZES=10000,100000 python -m evals run --suite retrieval_bench   # quicker

How the synthetic chunks are made: embedding a million texts would take hours on two CPU
cores, so only the scale is synthetic. The demo shop's real chunk vectors (all-MiniLM-L6-v2)
are the seeds; each synthetic vector is a random mix of two seeds (weights 1 and 0-0.6)
plus Gaussian noise, normalized. That keeps the clustered shape of real embeddings, which
is what decides how well IVF works (uniform random vectors would be far harder and far
less realistic). Queries are the real embeddings of the dev questions, each embedded on
its own; a query's latency is its embedding time plus its search time. Embedding
throughput for building is measured on the demo shop's chunk texts and reported beside the
index build time, which covers the FAISS structure (and, for IVF, training and tuning
nprobe to recall@10 >= 0.95 on the build's own sample queries). Timings are from whatever
machine runs it; the notes say how many CPU cores it had.

Up to 100k chunks a "hybrid over ..." row times the whole retrieval step (dense search, BM25,
relevance ranking: `Retriever.search`) with each synthetic chunk carrying its main seed's
text. With only the demo shop's few hundred distinct texts repeated, BM25's posting lists
are far longer than a real shop's, so that row errs on the slow side.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from evals.suite import SuiteResult, dev_questions

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
K = 10
NOISE = 0.02  # per dimension: a noise vector of norm ~0.4 against unit seeds
BATCH = 100_000
HYBRID_MAX = 100_000  # BM25 over synthetic text beyond this adds minutes and little news


def synthetic_vectors(seeds: np.ndarray, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """count unit vectors, each a seed plus a lighter second seed plus noise (see the
    docstring), and the index of each one's main seed."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, seeds.shape[1]), dtype=np.float32)
    origins = np.empty(count, dtype=np.int64)
    for start in range(0, count, BATCH):
        n = min(BATCH, count - start)
        first, second = rng.integers(0, len(seeds), n), rng.integers(0, len(seeds), n)
        origins[start:start + n] = first
        mixed = seeds[first] + rng.uniform(0, 0.6, (n, 1)).astype(np.float32) * seeds[second]
        mixed += rng.normal(0, NOISE, mixed.shape).astype(np.float32)
        out[start:start + n] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    return out, origins


def query_embeddings(embedder, questions: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each question embedded on its own, as a shopper's would be: (vectors, milliseconds)."""
    embedder.embed(questions[:2])  # warm up
    vectors, times = [], []
    for question in questions:
        started = time.perf_counter()
        vectors.append(embedder.embed([question])[0])
        times.append((time.perf_counter() - started) * 1000)
    return np.array(vectors, dtype=np.float32), np.array(times)


def measure(kind: str, vectors: np.ndarray, queries: np.ndarray, embed_ms: np.ndarray,
            truth: np.ndarray | None) -> tuple[dict, np.ndarray, object]:
    """Build the structure knowledge.vectors makes for kind, then time every query:
    (row, the neighbours found, the structure)."""
    import faiss
    import psutil

    from knowledge import vectors as structures

    ids = np.arange(len(vectors), dtype=np.int64)
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building uses every core
    rss = psutil.Process().memory_info().rss
    started = time.perf_counter()
    index = structures.new_structure(kind, vectors.shape[1], vectors)
    index.add_with_ids(vectors, ids)
    nprobe, build_recall = structures.tune_nprobe(index, vectors, ids) if kind == "ivf" else (1, 1.0)
    build_s = time.perf_counter() - started
    grown_mb = (psutil.Process().memory_info().rss - rss) / 2**20
    with tempfile.TemporaryDirectory() as folder:
        faiss.write_index(index, str(Path(folder) / "v.faiss"))
        size_mb = (Path(folder) / "v.faiss").stat().st_size / 2**20
    faiss.omp_set_num_threads(1)  # queries: one thread each, as a server runs them
    search_ms, found = [], []
    for query in queries:
        started = time.perf_counter()
        _, neighbours = structures.search(index, query[None, :], K, nprobe=nprobe)
        search_ms.append((time.perf_counter() - started) * 1000)
        found.append(neighbours[0])
    total = embed_ms + np.array(search_ms)
    found = np.array(found)
    row = {"chunks": len(vectors), "index": kind if kind == "exact" else f"ivf{index.nlist}/nprobe{nprobe}",
           "build_s": build_s, "index_mb": size_mb, "rss_growth_mb": grown_mb,
           "search_p50_ms": float(np.median(search_ms)), "p50_ms": float(np.median(total)),
           "p95_ms": float(np.percentile(total, 95)),
           "recall@10": 1.0 if truth is None else structures.recall_at(found, truth),
           "build_recall@10": build_recall}
    return row, found, (index, nprobe, build_recall)


def hybrid_row(structure, chunks: list, questions: list[str], queries: np.ndarray, embed_ms: np.ndarray,
               embedder) -> dict:
    """The whole retrieval step (dense + BM25 + relevance ranking) over the structure the
    product would use, each chunk carrying the text of its vector's main seed."""
    from knowledge.index import Index
    from knowledge.keyword import KeywordIndex
    from knowledge.retrieval import Retriever

    index, nprobe, _ = structure
    started = time.perf_counter()
    keyword = KeywordIndex.build([c.embedding_text() for c in chunks])
    build_s = time.perf_counter() - started
    retriever = Retriever(Index(index, chunks, np.arange(len(chunks)), keyword, {"nprobe": nprobe}), embedder)
    search_ms = []
    for question, vector in zip(questions, queries, strict=True):
        started = time.perf_counter()
        retriever.search(question, 10, query_vector=vector)
        search_ms.append((time.perf_counter() - started) * 1000)
    total = embed_ms + np.array(search_ms)
    return {"chunks": len(chunks), "build_s": build_s, "search_p50_ms": float(np.median(search_ms)),
            "p50_ms": float(np.median(total)), "p95_ms": float(np.percentile(total, 95))}


def benchmark(sizes, seeds: np.ndarray, questions: list[str], embedder, chunks: list,
              exact_max: int) -> SuiteResult:
    """Rows per size: the exact structure, the IVF one where size exceeds exact_max, and,
    up to HYBRID_MAX chunks, the whole hybrid retrieval step on the one the product uses.
    seeds[i] is the stored vector of chunks[i]."""
    import faiss
    import torch
    from tqdm import tqdm

    threads = torch.get_num_threads()
    started = time.perf_counter()
    embedder.embed([c.embedding_text() for c in chunks])
    rate = len(chunks) / (time.perf_counter() - started)
    # One query per call, as a server answers shoppers: a second thread gains little on one
    # short query and loses badly when other work shares the cores.
    torch.set_num_threads(1)
    queries, embed_ms = query_embeddings(embedder, questions)
    rows = []
    for size in tqdm(sizes, desc="sizes", unit="size"):
        vectors, origins = synthetic_vectors(seeds, size)
        exact, truth, structure = measure("exact", vectors, queries, embed_ms, None)
        rows.append({**exact, "embed_s_projected": size / rate})
        if size > exact_max:
            del structure
            approx, _, structure = measure("ivf", vectors, queries, embed_ms, truth)
            rows.append({**approx, "embed_s_projected": size / rate})
        if size <= HYBRID_MAX:
            hybrid = hybrid_row(structure, [chunks[o] for o in origins], questions, queries, embed_ms, embedder)
            rows.append({"index": f"hybrid over {rows[-1]['index']}", **hybrid})
        del vectors, structure
    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)
    notes = [f"Query embedding alone: p50 {np.median(embed_ms):.1f} ms, p95 {np.percentile(embed_ms, 95):.1f} ms "
             f"over {len(questions)} dev questions; queries run with 1 torch and 1 FAISS thread. "
             f"Chunk embedding throughput: {rate:.0f} chunks/s ({threads} threads), "
             "from which embed_s_projected is projected.",
             f"Machine: {os.cpu_count()} CPU cores. The product switches to IVF above "
             f"{exact_max} chunks (CHATBOT_EXACT_INDEX_MAX_CHUNKS)."]
    return SuiteResult("retrieval_bench", _metrics(rows), rows, notes, plots={"latency": _figure(rows)})


def _metrics(rows: list[dict]) -> dict[str, float]:
    """p95 latency and recall of the structure the product would use at each size, and the
    p95 of the whole hybrid step where it was measured."""
    metrics = {}
    for size in dict.fromkeys(r["chunks"] for r in rows):
        label = f"{size // 1000}k" if size < 1_000_000 else f"{size // 1_000_000}M"
        at_size = [r for r in rows if r["chunks"] == size]
        used = [r for r in at_size if not r["index"].startswith("hybrid")][-1]
        metrics[f"p95_ms_{label}"] = used["p95_ms"]
        metrics[f"recall@10_{label}"] = used["recall@10"]
        metrics |= {f"hybrid_p95_ms_{label}": r["p95_ms"] for r in at_size if r["index"].startswith("hybrid")}
    return metrics


def _figure(rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for label, selected in (("exact", [r for r in rows if r["index"] == "exact"]),
                            ("IVF", [r for r in rows if r["index"].startswith("ivf")]),
                            ("hybrid step", [r for r in rows if r["index"].startswith("hybrid")])):
        if selected:
            axis.plot([r["chunks"] for r in selected], [r["p95_ms"] for r in selected], marker="o", label=label)
    axis.set(xscale="log", yscale="log", xlabel="chunks", ylabel="p95 query latency (ms, embedding + search)",
             title="query latency by index size")
    axis.legend()
    return figure


def retrieval_bench_suite() -> SuiteResult:
    """Build time, p50/p95 query latency, memory and approx-vs-exact recall at 10k-1M chunks."""
    from shopcore.settings import get_settings
    from knowledge.embed import Embedder
    from knowledge.index import Index

    settings = get_settings()
    index = Index.load(settings.index_dir)
    seeds = index.stored_vectors(list(range(len(index.chunks))))
    sizes = tuple(int(s) for s in os.environ.get("EVALS_BENCH_SIZES", "").split(",") if s) or DEFAULT_SIZES
    questions = [q["question"] for q in dev_questions()][:200]
    return benchmark(sizes, seeds, questions, Embedder(settings.embedding_model), index.chunks,
                     settings.exact_index_max_chunks)
