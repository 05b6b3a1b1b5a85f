"""Split documents into chunks that keep their meaning: one section per chunk, carrying the
document title and the section path, cut further only when a section is too long."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.documents import Document

MAX_WORDS = 180  # all-MiniLM-L6-v2 reads 256 word pieces; a word is ~1.3 pieces
OVERLAP_WORDS = 30


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    title: str
    section: str
    text: str
    doc_type: str
    metadata: dict = field(default_factory=dict)

    def embedding_text(self) -> str:
        """What is embedded and keyword-indexed: the text with where it sits in the document."""
        heading = f"{self.title} > {self.section}" if self.section else self.title
        return f"{heading}\n{self.text}"


def chunk_document(document: Document) -> list[Chunk]:
    """Chunks of one document, in order; ids are `<doc_id>#<n>`."""
    pieces = []
    for section, body in _sections(document.text):
        for text in _bounded(body):
            pieces.append((section, text))
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


def _bounded(body: str) -> list[str]:
    """The body in windows of at most MAX_WORDS words, overlapping so no fact is cut in two."""
    words = body.split()
    if len(words) <= MAX_WORDS:
        return [body]
    step = MAX_WORDS - OVERLAP_WORDS
    return [" ".join(words[i : i + MAX_WORDS]) for i in range(0, len(words) - OVERLAP_WORDS, step)]
