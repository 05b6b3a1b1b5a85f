"""Chunking, the FAISS index on disk, and retrieval over the demo shop."""

import pytest

from knowledge.build import SourceMissing, build_index
from knowledge.chunking import MAX_WORDS, chunk_document
from knowledge.documents import Document, read_folder
from knowledge.index import Index, IndexNotBuilt


def test_chunks_follow_headings_and_carry_title_and_section():
    text = "# Returns\nIntro.\n## Window\nYou have 30 days.\n### Exceptions\nFinal sale items.\n"
    chunks = chunk_document(Document("policies/returns", "Returns", text, "policies"))
    assert [c.section for c in chunks] == ["", "Window", "Window > Exceptions"]
    assert chunks[1].embedding_text().startswith("Returns > Window\n")
    assert [c.chunk_id for c in chunks] == ["policies/returns#0", "policies/returns#1", "policies/returns#2"]


def test_long_sections_are_cut_with_overlap():
    words = [f"w{i}" for i in range(500)]
    chunks = chunk_document(Document("d", "D", "## S\n" + " ".join(words), "page"))
    assert len(chunks) > 2 and all(len(c.text.split()) <= MAX_WORDS for c in chunks)
    assert set(" ".join(c.text for c in chunks).split()) == set(words)
    assert chunks[1].text.split()[0] in chunks[0].text.split()  # overlap


def test_unreadable_files_are_skipped_with_a_reason(tmp_path):
    (tmp_path / "ok.md").write_text("# Hours\nWe open at nine.")
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n")
    documents, skipped = read_folder(tmp_path)
    assert [d.doc_id for d in documents] == ["ok"]
    assert {s.path: s.reason for s in skipped} == {
        "empty.txt": "empty", "latin1.txt": "not UTF-8 text", "logo.png": "unsupported file type '.png'"}


def test_demo_index_finds_the_returns_policy(retriever):
    hits = retriever.search("How long do I have to return an item?", k=5)
    assert "policies/returns" in [h.chunk.doc_id for h in hits]
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_index_round_trips_and_refuses_broken_folders(tmp_path, embedder):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "hours.md").write_text("# Opening hours\nThe shop opens at nine.")
    report = build_index([tmp_path / "docs"], tmp_path / "index", embedder)
    assert report.documents == 1 and report.chunks == 1
    assert Index.load(tmp_path / "index").chunks[0].doc_id == "hours"
    (tmp_path / "index" / "chunks.jsonl").write_text("not json\n")
    with pytest.raises(IndexNotBuilt, match="knowledge build"):
        Index.load(tmp_path / "index")
    with pytest.raises(IndexNotBuilt):
        Index.load(tmp_path / "missing")
    with pytest.raises(SourceMissing):
        build_index([tmp_path / "nope"], tmp_path / "index2", embedder)
