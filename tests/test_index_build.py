"""Incremental builds, atomic generations and the approximate index above a size."""

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from knowledge.build import build_index
from knowledge.embed import Embedder
from knowledge.index import CURRENT_FILE, Index
from knowledge.keyword import TERMS_VERSION
from knowledge.retrieval import Retriever

OTHER_SHOP = Path(__file__).parent / "fixtures" / "other_shop"


class RecordingEmbedder(Embedder):
    """The real embedder, sharing its loaded model, that also records what it embedded."""

    def __init__(self, real: Embedder):
        self.__dict__.update(real.__dict__)
        self.embedded: list[str] = []

    def embed(self, texts, **kwargs):
        self.embedded += texts
        return super().embed(texts, **kwargs)


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    (folder / "policies").mkdir(parents=True)
    (folder / "policies" / "returns.md").write_text(
        "# Returns\n## Window\nReturn within 30 days.\n## Condition\nUnworn, with tags.\n")
    (folder / "policies" / "shipping.md").write_text("# Shipping\nStandard delivery takes 3 to 5 days.\n")
    (folder / "faq.md").write_text("# FAQ\n## Gift cards\nGift cards never expire.\n")
    return folder


def _vectors(index: Index) -> dict[str, tuple[int, bytes]]:
    return {c.chunk_id: (int(i), index.vectors.reconstruct(int(i)).tobytes())
            for i, c in zip(index.ids, index.chunks)}


def test_changing_one_policy_re_embeds_only_its_chunks(docs, tmp_path, embedder):
    index_dir = tmp_path / "index"
    recorder = RecordingEmbedder(embedder)
    first = build_index([docs], index_dir, recorder)
    assert first.embedded == 4 and len(recorder.embedded) == 4
    before = _vectors(Index.load(index_dir))

    (docs / "policies" / "returns.md").write_text(
        "# Returns\n## Window\nReturn within 60 days.\n## Condition\nUnworn, with tags.\n")
    recorder.embedded.clear()
    second = build_index([docs], index_dir, recorder)

    assert second.updated == ["policies/returns"] and not second.added and not second.removed
    assert second.embedded == 2 and all(t.startswith("Returns > ") for t in recorder.embedded)
    after = _vectors(Index.load(index_dir))
    for chunk_id in ("policies/shipping#0", "faq#0"):
        assert after[chunk_id] == before[chunk_id]  # same vector id, same stored vector
    assert after["policies/returns#0"][0] not in {i for i, _ in before.values()}
    hits = Retriever(Index.load(index_dir), embedder).search("how many days to return", 1)
    assert "60 days" in hits[0].chunk.text


def test_added_and_removed_documents_and_a_quiet_rerun(docs, tmp_path, embedder):
    index_dir = tmp_path / "index"
    build_index([docs], index_dir, embedder)
    (docs / "faq.md").unlink()
    (docs / "policies" / "warranty.md").write_text("# Warranty\nTwo years on every tent.\n")
    report = build_index([docs], index_dir, embedder)
    assert report.added == ["policies/warranty"] and report.removed == ["faq"] and report.embedded == 1
    assert {c.doc_id for c in Index.load(index_dir).chunks} == {
        "policies/returns", "policies/shipping", "policies/warranty"}
    assert any("removed faq" in line for line in report.lines())

    live = (index_dir / CURRENT_FILE).read_text()
    quiet = build_index([docs], index_dir, embedder)
    assert not quiet.written and quiet.embedded == 0 and (index_dir / CURRENT_FILE).read_text() == live
    assert "index already up to date" in quiet.lines()[-1]


def test_an_older_keyword_tokenizer_re_indexes_terms_but_keeps_the_vectors(docs, tmp_path, embedder):
    index_dir = tmp_path / "index"
    build_index([docs], index_dir, embedder)
    before = _vectors(Index.load(index_dir))
    manifest = index_dir / (index_dir / CURRENT_FILE).read_text().strip() / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"keyword_terms": ', '"keyword_terms": -'))

    recorder = RecordingEmbedder(embedder)
    report = build_index([docs], index_dir, recorder)
    assert report.written and report.embedded == 0 and not recorder.embedded
    rebuilt = Index.load(index_dir)
    assert rebuilt.manifest["keyword_terms"] == TERMS_VERSION and _vectors(rebuilt) == before


def test_readers_never_see_a_half_written_index(docs, tmp_path, embedder):
    index_dir = tmp_path / "index"
    build_index([docs], index_dir, embedder)
    stop, failures, loads = threading.Event(), [], [0]

    def read_continuously():
        while not stop.is_set():
            try:
                index = Index.load(index_dir)
                assert len(index.chunks) == index.vectors.ntotal > 0
                loads[0] += 1
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                failures.append(repr(exc))

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        for n in range(4):
            (docs / "faq.md").write_text(f"# FAQ\n## Gift cards\nGift cards last {n} years.\n")
            build_index([docs], index_dir, embedder)
    finally:
        stop.set()
        reader.join()
    assert failures == [] and loads[0] > 0
    assert len(list(index_dir.glob("gen-*"))) == 2  # the live generation and the one before


def test_above_the_exact_size_an_ivf_index_is_tuned_against_exact_search(tmp_path, embedder):
    report = build_index([OTHER_SHOP], tmp_path / "ivf", embedder, exact_max=12)
    assert report.kind == "ivf" and report.recall >= 0.95 and report.nprobe >= 1
    assert any("approximate (IVF)" in line for line in report.lines())
    index = Index.load(tmp_path / "ivf")
    assert index.manifest["kind"] == "ivf" and index.manifest["recall_at_10"] == report.recall
    hits = Retriever(index, embedder).search("Do you accept cheques?", 1)
    assert hits[0].chunk.doc_id == "faq/payment"

    # Shrinking below the size turns it back into an exact index, keeping the vectors.
    copy = tmp_path / "shop"
    shutil.copytree(OTHER_SHOP, copy)
    for path in (copy / "parts.jsonl", copy / "services.csv"):
        path.unlink()
    smaller = build_index([copy], tmp_path / "ivf", embedder, exact_max=12)
    assert smaller.kind == "exact" and smaller.embedded == 0 and smaller.removed
    index = Index.load(tmp_path / "ivf")
    assert index.vectors.ntotal == len(index.chunks) == smaller.chunks
    assert np.allclose(np.linalg.norm(index.stored_vectors(list(range(len(index.chunks)))), axis=1), 1, atol=1e-4)


def test_a_new_embedding_model_or_full_flag_rebuilds_everything(docs, tmp_path, embedder):
    index_dir = tmp_path / "index"
    build_index([docs], index_dir, embedder)
    assert build_index([docs], index_dir, embedder, full=True).embedded == 4
    other = RecordingEmbedder(embedder)
    other.model_id = "some/other-model"
    assert build_index([docs], index_dir, other).embedded == 4
