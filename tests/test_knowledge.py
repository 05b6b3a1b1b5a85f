"""Chunking that keeps meaning, and the index folder on disk."""

import pytest

from knowledge.build import SourceMissing, build_index
from knowledge.chunking import chunk_document
from knowledge.documents import Document
from knowledge.index import CURRENT_FILE, Index, IndexNotBuilt


def test_chunks_follow_headings_and_carry_title_and_section(embedder):
    text = "# Returns\nIntro.\n## Window\nYou have 30 days.\n### Exceptions\nFinal sale items.\n"
    chunks = chunk_document(Document("policies/returns", "Returns", text, "policies"), embedder.count_tokens)
    assert [c.section for c in chunks] == ["", "Window", "Window > Exceptions"]
    assert chunks[1].embedding_text() == "Returns > Window\nYou have 30 days."
    assert [c.chunk_id for c in chunks] == ["policies/returns#0", "policies/returns#1", "policies/returns#2"]


def test_a_long_paragraph_is_cut_within_the_token_bound_with_overlap(embedder):
    words = [f"word{i}" for i in range(600)]
    chunks = chunk_document(Document("d", "D", "## S\n" + " ".join(words), "page"), embedder.count_tokens,
                            max_tokens=120, overlap_tokens=20)
    assert len(chunks) > 3
    assert all(embedder.count_tokens(c.embedding_text()) <= 120 for c in chunks)
    assert set(" ".join(c.text for c in chunks).split()) == set(words)  # nothing lost
    for before, after in zip(chunks, chunks[1:]):
        assert after.text.split()[0] in before.text.split()  # each window starts inside the last


def test_list_items_and_table_rows_are_never_split_and_rows_keep_their_header(embedder):
    items = "\n".join(f"- Item {i}: a short rule about returning gear number {i}." for i in range(30))
    rows = "\n".join(f"| Zone {i} | {i + 2} business days |" for i in range(30))
    text = f"# Guide\n## Rules\n{items}\n## Delivery times\n| Zone | Time |\n|---|---|\n{rows}\n"
    chunks = chunk_document(Document("g", "Guide", text, "policies"), embedder.count_tokens, max_tokens=90)
    rules = [c for c in chunks if c.section == "Rules"]
    table = [c for c in chunks if c.section == "Delivery times"]
    assert len(rules) > 1 and len(table) > 1
    assert sorted(line for c in rules for line in c.text.splitlines()) == sorted(items.splitlines())
    for chunk in table:
        assert chunk.text.startswith("| Zone | Time |\n|---|---|\n| Zone ")
    assert sum(c.text.count("business days") for c in table) == 30


def test_every_product_is_one_chunk(demo_sessions, embedder):
    from knowledge.documents import catalog_documents

    with demo_sessions() as session:
        products = catalog_documents(session)
    for product in products:
        (chunk,) = chunk_document(product, embedder.count_tokens)
        assert chunk.text.startswith("SKU: ") and "Price: $" in chunk.text


def test_index_round_trips_and_refuses_broken_folders(tmp_path, embedder):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "hours.md").write_text("# Opening hours\nThe shop opens at nine.")
    report = build_index([tmp_path / "docs"], tmp_path / "index", embedder)
    assert report.documents == 1 and report.chunks == 1 and report.written
    assert Index.load(tmp_path / "index").chunks[0].doc_id == "hours"
    live = tmp_path / "index" / (tmp_path / "index" / CURRENT_FILE).read_text()
    (live / "chunks.jsonl").write_text("not json\n")
    with pytest.raises(IndexNotBuilt, match="knowledge build"):
        Index.load(tmp_path / "index")
    with pytest.raises(IndexNotBuilt):
        Index.load(tmp_path / "missing")
    with pytest.raises(SourceMissing):
        build_index([tmp_path / "nope"], tmp_path / "index2", embedder)


def test_an_empty_folder_builds_an_empty_index_that_answers_nothing(tmp_path, embedder):
    from knowledge.retrieval import Retriever

    (tmp_path / "docs").mkdir()
    build_index([tmp_path / "docs"], tmp_path / "index", embedder)
    assert Retriever(Index.load(tmp_path / "index"), embedder).search("anything", 3) == []
