"""Reading shop content in every supported format; unreadable files are skipped with a reason.

tests/fixtures/other_shop is a bike-repair shop (a different domain from the demo shop) in
Markdown, HTML, PDF, CSV, JSON, JSONL and plain text, plus files that cannot be read.
"""

from pathlib import Path

import pytest

from knowledge.documents import read_folder

OTHER_SHOP = Path(__file__).parent / "fixtures" / "other_shop"


@pytest.fixture(scope="module")
def other_shop():
    documents, skipped = read_folder(OTHER_SHOP)
    return {d.doc_id: d for d in documents}, {s.path: s.reason for s in skipped}


def test_every_format_is_read_into_documents(other_shop):
    documents, _ = other_shop
    assert set(documents) == {
        "policies/repair-turnaround", "policies/warranty", "rental-agreement", "store-hours",
        "faq/loan-bike", "faq/payment", "faq/e-bikes",
        "parts/PT-CHN-11", "parts/PT-TYR-700", "parts/PT-PAD-HYD", "parts/PT-LGT-USB",
        "services/SVC-TUNE", "services/SVC-OVER", "services/SVC-FLAT", "services/SVC-BLEED",
        "services/SVC-TRUE", "services/SVC-FIT",
    }


def test_unreadable_files_and_records_are_skipped_with_the_reason(other_shop):
    _, skipped = other_shop
    assert skipped["empty.md"] == "empty"
    assert skipped["latin1-notes.txt"] == "not UTF-8 text"
    assert skipped["logo.png"] == "unsupported file type '.png'"
    assert skipped["corrupt-invoice.pdf"].startswith("unreadable PDF")
    assert skipped["parts.jsonl line 4"].startswith("invalid JSON")
    assert len(skipped) == 5


def test_html_keeps_structure_and_drops_navigation_scripts_and_footer(other_shop):
    page = other_shop[0]["policies/warranty"]
    assert page.title == "Workshop Warranty"
    assert "## What is covered" in page.text
    assert "- Labour on any repair is guaranteed for 90 days." in page.text
    assert "| Part | Warranty |\n|---|---|\n| Wheel truing | 30 days |\n| Hydraulic brake bleed | 60 days |" in page.text
    for furniture in ("Cart", "analytics", "tracking pixel", "newsletter", "font-family"):
        assert furniture not in page.text


def test_every_row_of_an_html_table_is_chunked_with_its_header(other_shop):
    """A page's table rows were once blank-line separated, and chunking took each row for a
    new table's header and dropped it."""
    from knowledge.chunking import chunk_document

    chunks = chunk_document(other_shop[0]["policies/warranty"], count_tokens=lambda text: len(text.split()))
    text = "\n".join(chunk.text for chunk in chunks)
    assert "| Part | Warranty |" in text
    assert "| Wheel truing | 30 days |" in text and "| Hydraulic brake bleed | 60 days |" in text


def test_pdf_text_is_read_page_by_page(other_shop):
    pdf = other_shop[0]["rental-agreement"]
    assert pdf.title == "Bike Rental Agreement"
    assert "## Page 1" in pdf.text and "deposit of 200 euros" in pdf.text


def test_feed_records_become_readable_documents_with_their_category(other_shop):
    documents, _ = other_shop
    tyre = documents["parts/PT-TYR-700"]
    assert tyre.title == "Puncture-proof touring tyre 700x35"
    assert "Specs > Width: 35 mm" in tyre.text and "Price eur: 45" in tyre.text
    assert tyre.metadata == {"category": "Tyres"} and tyre.doc_type == "parts"
    chain = documents["parts/PT-CHN-11"]
    assert "Compatible with: Shimano 105; SRAM Rival" in chain.text
    flat = documents["services/SVC-FLAT"]
    assert flat.title == "Puncture repair" and "Duration: 20 minutes" in flat.text
    assert documents["faq/payment"].title == "Which payment methods do you accept?"


@pytest.mark.parametrize("name, content, reason", [
    ("blank.txt", b"  \n\t\n", "empty"),
    ("nul.md", b"abc\x00def", "binary file"),
    ("bad.json", b"{not json", "invalid JSON"),
    ("scalar.json", b"42", "JSON must hold a record or a list of records"),
    ("one-column.csv", b"name\nboots\n", "CSV needs a header row with at least two columns"),
    ("page.html", b"<html><nav>Home</nav><script>x()</script></html>", "no text in the HTML page"),
])
def test_bad_files_get_a_clear_reason_and_the_rest_is_kept(tmp_path, name, content, reason):
    (tmp_path / "good.md").write_text("# Hours\nWe open at nine.")
    (tmp_path / name).write_bytes(content)
    documents, skipped = read_folder(tmp_path)
    assert [d.doc_id for d in documents] == ["good"]
    assert [s.path for s in skipped] == [name] and skipped[0].reason.startswith(reason)


def test_content_hash_changes_with_the_text_only(other_shop):
    from dataclasses import replace

    page = other_shop[0]["store-hours"]
    assert replace(page).content_hash == page.content_hash
    assert replace(page, text=page.text + " ").content_hash != page.content_hash


@pytest.mark.parametrize("meta_title", ["about:blank", "Microsoft Word - rental.docx", "", "  ", "1234"])
def test_a_pdf_with_a_junk_or_empty_title_is_titled_by_its_file_name(tmp_path, meta_title):
    from pypdf import PdfReader, PdfWriter

    from knowledge.readers import read_file

    writer = PdfWriter(clone_from=PdfReader(OTHER_SHOP / "rental-agreement.pdf"))
    writer.add_metadata({"/Title": meta_title})
    path = tmp_path / "bike-rental-terms.pdf"
    with open(path, "wb") as out:
        writer.write(out)
    documents, _ = read_file(path, Path("bike-rental-terms.pdf"))
    assert documents[0].title == "Bike rental terms"
    assert "deposit of 200 euros" in documents[0].text
