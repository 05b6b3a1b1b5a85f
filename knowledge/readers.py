"""Read one file of shop content into documents, whatever its format.

Markdown and plain text are read as they are. HTML loses its navigation, scripts and
styling, and its headings, list items and table rows become Markdown so that chunking sees
the same structure in every format. PDF text is read page by page with pypdf. JSON, JSONL
and CSV are record feeds: one record, one document, its fields rendered as readable lines.

A file that cannot be read raises `Unreadable` with the reason the build report prints;
a bad record inside a feed is reported the same way and the rest of the feed is kept.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

from knowledge.documents import Document

# Fields that name a record (first present wins) and fields that identify it stably, so a
# record keeps its document id, and so its content hash, when the feed is re-exported.
TITLE_FIELDS = ("title", "name", "question", "product", "service", "sku", "id")
ID_FIELDS = ("id", "sku", "slug", "handle", "code", "number")
CATEGORY_FIELDS = ("category", "type", "topic")
# HTML elements that are page furniture, never shop knowledge.
HTML_NOISE = ("script", "style", "nav", "header", "footer", "aside", "form", "noscript",
              "template", "svg", "iframe", "button", "menu")
HTML_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre", "blockquote", "dt", "dd")


class Unreadable(Exception):
    """A file (or one record of a feed) that cannot be indexed; the message says why."""


def read_file(path: Path, relative: Path) -> tuple[list[Document], list[tuple[str, str]]]:
    """Documents in one file, and (where, reason) for each record of it that was skipped."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise Unreadable(f"unsupported file type {path.suffix or '(none)'!r}")
    return reader(path, relative)


def _text(path: Path) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise Unreadable("empty")
    if b"\x00" in data[:8192]:
        raise Unreadable("binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable("not UTF-8 text") from None
    if not text.strip():
        raise Unreadable("empty")
    return text


def doc_type_of(relative: Path) -> str:
    """The top folder (policies/, faq/...) or, for a file at the top, its name."""
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _one(relative: Path, title: str, text: str) -> tuple[list[Document], list]:
    return [Document(relative.with_suffix("").as_posix(), title, text, doc_type_of(relative))], []


def read_markdown(path: Path, relative: Path):
    text = _text(path)
    heading = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
    return _one(relative, heading.group(1).strip() if heading else _stem_title(path), text)


def read_html(path: Path, relative: Path):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_text(path), "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for element in soup.find_all(HTML_NOISE):
        element.decompose()
    for element in soup.find_all(attrs={"role": ["navigation", "banner", "contentinfo"]}):
        element.decompose()
    body = soup.body or soup
    lines = []
    for element in body.find_all(HTML_BLOCKS):
        if element.find_parent(HTML_BLOCKS):  # its text is already in the enclosing block
            continue
        lines.append(_html_line(element))
    text = _blocks([line for line in lines if line.strip()]) or body.get_text("\n", strip=True)
    if not text.strip():
        raise Unreadable("no text in the HTML page")
    h1 = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
    return _one(relative, readable_title(title or (h1.group(1) if h1 else ""), path), text)


def _blocks(lines: list[str]) -> str:
    """Blocks separated by blank lines, except a table's rows: they stay on consecutive lines,
    the first followed by a Markdown rule, so chunking reads a Markdown table with its header
    (knowledge/chunking.py keeps the header with every row)."""
    parts: list[str] = []
    for line in lines:
        if line.startswith("| ") and parts and parts[-1].startswith("| "):
            parts[-1] += "\n" + line
        elif line.startswith("| "):
            parts.append(line + "\n|" + "---|" * (line.count(" | ") + 1))
        else:
            parts.append(line)
    return "\n\n".join(parts)


def _html_line(element) -> str:
    name = element.name
    if name[0] == "h" and name[1:].isdigit():
        return "#" * int(name[1:]) + " " + _inline(element.get_text(" ", strip=True))
    if name == "li":
        return "- " + _inline(element.get_text(" ", strip=True))
    if name == "tr":
        cells = [_inline(c.get_text(" ", strip=True)) for c in element.find_all(["th", "td"])]
        return "| " + " | ".join(cells) + " |"
    return _inline(element.get_text(" ", strip=True))


def _inline(text: str) -> str:
    """Text joined across inline elements without a space before punctuation: "<b>90 days</b>."
    reads "90 days.", not "90 days ."."""
    return re.sub(r"\s+([.,;:!?)])", r"\1", text)


def read_pdf(path: Path, relative: Path):
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings repeat our skip reason

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    except Unreadable:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as exc:
        raise Unreadable(f"unreadable PDF ({type(exc).__name__}: {exc})") from None
    if not any(page.strip() for page in pages):
        raise Unreadable("PDF has no extractable text (a scanned image?)")
    title = readable_title(str(meta_title or ""), path)
    # One section per page, so a citation can say where in the PDF the text came from.
    text = "\n\n".join(f"## Page {n}\n{page.strip()}" for n, page in enumerate(pages, 1) if page.strip())
    return _one(relative, title, text)


def read_json(path: Path, relative: Path):
    try:
        data = json.loads(_text(path))
    except json.JSONDecodeError as exc:
        raise Unreadable(f"invalid JSON ({exc})") from None
    if isinstance(data, dict):  # {"products": [...]} or a single record
        lists = [v for v in data.values() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
        data = lists[0] if len(lists) == 1 else [data]
    if not isinstance(data, list):
        raise Unreadable("JSON must hold a record or a list of records")
    return _records(relative, [(f"record {n}", r) for n, r in enumerate(data, 1)])


def read_jsonl(path: Path, relative: Path):
    rows, skipped = [], []
    for n, line in enumerate(_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((f"line {n}", json.loads(line)))
        except json.JSONDecodeError as exc:
            skipped.append((f"{relative.as_posix()} line {n}", f"invalid JSON ({exc.msg})"))
    documents, more = _records(relative, rows)
    return documents, skipped + more


def read_csv(path: Path, relative: Path):
    text = _text(path)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames or len(reader.fieldnames) < 2:
        raise Unreadable("CSV needs a header row with at least two columns")
    rows = [(f"row {n}", {k: v for k, v in row.items() if k is not None}) for n, row in enumerate(reader, 2)]
    return _records(relative, rows)


def _records(relative: Path, rows: list[tuple[str, object]]):
    """One document per record; records that are not objects or are empty are skipped."""
    documents, skipped, seen = [], [], set()
    stem = relative.with_suffix("").as_posix()
    for where, record in rows:
        if not isinstance(record, dict) or not any(_present(v) for v in record.values()):
            skipped.append((f"{relative.as_posix()} {where}", "not a record with fields"))
            continue
        fields = {k.strip().lower(): v for k, v in record.items() if isinstance(k, str)}
        key = next((str(fields[f]).strip() for f in ID_FIELDS if _present(fields.get(f))), where.split()[-1])
        if key in seen:
            skipped.append((f"{relative.as_posix()} {where}", f"duplicate record id {key!r}"))
            continue
        seen.add(key)
        title = next((str(fields[f]).strip() for f in TITLE_FIELDS if _present(fields.get(f))), key)
        category = next((str(fields[f]).strip() for f in CATEGORY_FIELDS if _present(fields.get(f))), None)
        body = "\n".join(_field_lines(record))
        documents.append(Document(f"{stem}/{key}", title, f"# {title}\n{body}", doc_type_of(relative),
                                  {"category": category} if category else {}))
    return documents, skipped


def _field_lines(record: dict, prefix: str = "") -> list[str]:
    """`Field name: value` per field; nested objects as `Parent > child: value`."""
    lines = []
    for key, value in record.items():
        if not _present(value):
            continue
        name = prefix + str(key).replace("_", " ").strip().capitalize()
        if isinstance(value, dict):
            lines += _field_lines(value, f"{name} > ")
        elif isinstance(value, list):
            parts = [", ".join(f"{k}: {v}" for k, v in item.items() if _present(v))
                     if isinstance(item, dict) else str(item) for item in value]
            lines.append(f"{name}: {'; '.join(parts)}")
        else:
            lines.append(f"{name}: {str(value).strip()}")
    return lines


def _present(value) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | dict):
        return bool(value)
    return value is not None


JUNK_TITLE = re.compile(
    r"^(about:blank|untitled( document)?|document\d*|page \d+|microsoft (word|powerpoint) - .*|new document"
    r"|.*\.(docx?|pdf|html?|odt|rtf|pages|indd)|[a-z]+://.*|[a-z]:\\.*|/.*)$",
    re.IGNORECASE,
)


def readable_title(candidate: str, path: Path) -> str:
    """A title a shopper can read: the file's own (metadata, <title>) unless it is empty or junk
    that tools write ("about:blank", "Microsoft Word - faq.docx", a path), else the file name."""
    title = " ".join(candidate.split())
    if len(title) < 3 or len(title) > 150 or JUNK_TITLE.match(title) or not re.search(r"[^\W\d_]", title):
        return _stem_title(path)
    return title


def _stem_title(path: Path) -> str:
    return path.stem.replace("-", " ").replace("_", " ").capitalize()


READERS: dict[str, Callable] = {
    ".md": read_markdown, ".markdown": read_markdown, ".txt": read_markdown,
    ".html": read_html, ".htm": read_html, ".pdf": read_pdf,
    ".json": read_json, ".jsonl": read_jsonl, ".csv": read_csv,
}
