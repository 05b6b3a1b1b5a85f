"""Split documents into chunks that keep their meaning.

A chunk never crosses a heading: each carries the document title and its section path
(`Returns Policy > Return window`). Inside a section the text is cut only between
paragraphs, list items and table rows, and table rows keep their table's header row, so a
row still says what its cells mean. A record (one product, one feed row) is one chunk. Only
a single paragraph longer than the bound is cut mid-text, in windows that overlap so no
fact is lost at the cut. Length is counted in the embedding model's own tokens.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from knowledge.documents import Document

# all-MiniLM-L6-v2 reads 256 word pieces including its two special tokens: a chunk is never
# longer than what the model sees. Sections are usually shorter; they are not merged.
MAX_TOKENS = 254
OVERLAP_TOKENS = 32

TokenCounter = Callable[[str], int]

LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
TABLE_ROW = re.compile(r"^\s*\|")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    title: str
    section: str
    text: str
    doc_type: str
    metadata: dict = field(default_factory=dict)

    @property
    def heading(self) -> str:
        return f"{self.title} > {self.section}" if self.section else self.title

    def embedding_text(self) -> str:
        """What is embedded and keyword-indexed: the text with where it sits in the document."""
        return f"{self.heading}\n{self.text}"


@dataclass(frozen=True)
class _Unit:
    text: str
    table_header: str = ""  # the header row (and rule) of the table this row belongs to


def chunk_document(
    document: Document,
    count_tokens: TokenCounter,
    max_tokens: int = MAX_TOKENS,
    overlap_tokens: int = OVERLAP_TOKENS,
) -> list[Chunk]:
    """Chunks of one document, in order, each at most max_tokens; ids are `<doc_id>#<n>`."""
    pieces = []
    for section, body in _sections(document.text):
        heading = f"{document.title} > {section}" if section else document.title
        budget = max(16, max_tokens - count_tokens(heading))
        pieces += [(section, text) for text in _pack(_units(body), budget, overlap_tokens, count_tokens)]
    return [
        Chunk(f"{document.doc_id}#{n}", document.doc_id, document.title, section, text,
              document.doc_type, document.metadata)
        for n, (section, text) in enumerate(pieces)
    ]


def _sections(text: str) -> list[tuple[str, str]]:
    """(section path, body) per Markdown heading below the title; text without headings is one."""
    path: list[str] = []
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines():
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            level = len(heading.group(1))
            if level == 1:  # the document title, already carried by every chunk
                continue
            path = path[: level - 2] + [heading.group(2).strip()]
            sections.append((" > ".join(path), []))
        else:
            sections[-1][1].append(line)
    return [(name, "\n".join(lines).strip()) for name, lines in sections if "\n".join(lines).strip()]


def _units(body: str) -> list[_Unit]:
    """The smallest pieces the body may be cut between: paragraphs, list items, table rows."""
    units: list[_Unit] = []
    paragraph: list[str] = []
    header: list[str] = []

    def close_paragraph():
        if paragraph:
            units.append(_Unit("\n".join(paragraph)))
            paragraph.clear()

    for line in body.splitlines():
        if TABLE_ROW.match(line):
            close_paragraph()
            if not header or (len(header) == 1 and TABLE_RULE.match(line)):
                header.append(line)  # the header row, then its |---| rule
            else:
                units.append(_Unit(line, "\n".join(header)))
            continue
        header = []
        if not line.strip():
            close_paragraph()
        elif LIST_ITEM.match(line):
            close_paragraph()
            paragraph.append(line)
        elif paragraph and LIST_ITEM.match(paragraph[0]) and not line.startswith((" ", "\t")):
            close_paragraph()  # a plain line after a list item starts a new paragraph
            paragraph.append(line)
        else:
            paragraph.append(line)
    close_paragraph()
    if header and not any(u.table_header for u in units):  # a table that is only a header
        units.append(_Unit("\n".join(header)))
    return units


def _pack(units: list[_Unit], budget: int, overlap: int, count_tokens: TokenCounter) -> list[str]:
    """Consecutive units joined into chunks of at most budget tokens."""
    chunks: list[str] = []
    lines: list[str] = []
    used, header = 0, ""

    def flush():
        nonlocal used, header
        if lines:
            chunks.append("\n".join(lines))
        lines.clear()
        used, header = 0, ""

    for unit in units:
        cost = count_tokens(unit.text)
        extra = count_tokens(unit.table_header) if unit.table_header != header else 0
        if lines and used + extra + cost > budget:
            flush()
            extra = count_tokens(unit.table_header) if unit.table_header else 0
        if extra + cost > budget and "\n" in unit.text:  # cut a long paragraph between its lines
            flush()
            chunks += _pack([_Unit(line, unit.table_header) for line in unit.text.splitlines()],
                            budget, overlap, count_tokens)
            continue
        if extra + cost > budget:  # one line longer than a chunk: cut it mid-text
            flush()
            prefix = unit.table_header + "\n" if unit.table_header else ""
            chunks += [prefix + w for w in _windows(unit.text, budget - extra, overlap, count_tokens)]
            continue
        if unit.table_header and unit.table_header != header:
            lines.append(unit.table_header)
            header = unit.table_header
        lines.append(unit.text)
        used += extra + cost
    flush()
    return chunks


def _windows(text: str, budget: int, overlap: int, count_tokens: TokenCounter) -> list[str]:
    """text in windows of at most budget tokens, each starting overlap tokens before the last ended."""
    words = text.split()
    sizes = [count_tokens(word) for word in words]
    windows, start = [], 0
    while start < len(words):
        end, used = start, 0
        while end < len(words) and used + sizes[end] <= budget:
            used += sizes[end]
            end += 1
        end = max(end, start + 1)  # a single word longer than the budget still goes somewhere
        windows.append(" ".join(words[start:end]))
        if end == len(words):
            break
        back, carried = end, 0
        while back > start + 1 and carried + sizes[back - 1] <= overlap:
            back -= 1
            carried += sizes[back]
        start = back
    return windows
