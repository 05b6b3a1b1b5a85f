"""Check the second shop (Kettle & Leaf) question set against its own documents.

    python3 evals/data/second_shop/check.py [--questions PATH] [--docs DIR]

Verifies: ids unique and well formed; every row has exactly the dev-set fields with valid
values; every doc_id exists (a file under docs/ named by its path without extension, or a
record of a feed such as products/KL-GRN-101); every key_fact is short (1-4 words) and
occurs, case-insensitively, in the text of every one of its doc_ids (HTML read without its
page furniture, feed records rendered as `Field: value` lines, as knowledge/readers.py
does); FAQ-only facts don't also appear in a prose document that isn't listed; SKU questions
name their SKU; and the counts per kind, style and policy file meet the minimums. It also
checks the documents themselves: between 10 and 14 of them, every Markdown policy with a
`#` title and `##` sections. Standard library only. Exits 1 and lists every problem if
anything fails.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DOCS = HERE / "docs"
DEFAULT_QUESTIONS = HERE / "questions.jsonl"

KINDS = ("policy", "faq", "product", "sku", "unanswerable", "handoff")
STYLES = ("plain", "paraphrase", "typo", "casual")
FIELDS = ("id", "question", "kind", "style", "doc_ids", "key_fact", "customer_id")
ANSWERABLE = ("policy", "faq", "product", "sku")
MINIMUMS = {  # what the set must contain; "per policy file" is checked separately
    "answerable": 60, "refused": 15, "unanswerable": 5, "handoff": 5, "faq-cited": 5,
    "product+sku": 10, "sku": 5, "paraphrase": 15, "typo": 10, "casual": 8,
}
MIN_PER_POLICY_FILE = 3
DOCUMENTS = (10, 14)  # prose documents (feeds not counted)
MAX_KEY_FACT_WORDS = 4
ID_PATTERN = re.compile(r"s\d{4}")
SKU_PATTERN = re.compile(r"KL-[A-Z]{3}-\d{3}")

# As in knowledge/readers.py: fields that give a feed record its id, first present wins,
# and HTML elements that are page furniture.
ID_FIELDS = ("id", "sku", "slug", "handle", "code", "number")
HTML_NOISE = {"script", "style", "nav", "header", "footer", "aside", "form", "noscript",
              "template", "svg", "iframe", "button", "menu"}
PROSE = {".md", ".markdown", ".txt", ".html", ".htm"}
FEEDS = {".csv", ".jsonl", ".json"}


class _HtmlText(HTMLParser):
    """The text of an HTML page without the elements the reader drops."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.noise_depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        role = dict(attrs).get("role")
        if tag in HTML_NOISE or role in ("navigation", "banner", "contentinfo") or self.noise_depth:
            self.noise_depth += 1
        if tag in ("p", "li", "tr", "br", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th"):
            self.parts.append("\n" if tag not in ("td", "th") else " | ")

    def handle_startendtag(self, tag, attrs):
        pass  # void elements (meta, link, input, br) neither open nor close anything

    def handle_endtag(self, tag):
        if self.noise_depth:
            self.noise_depth -= 1

    def handle_data(self, data):
        if not self.noise_depth:
            self.parts.append(data)


def html_text(raw: str) -> str:
    parser = _HtmlText()
    # Void elements written without "/>" never get an end tag: drop them before parsing so
    # they can't unbalance the noise depth.
    parser.feed(re.sub(r"<(meta|link|input|br|img|hr)\b[^>]*>", "", raw, flags=re.IGNORECASE))
    parser.close()
    return re.sub(r"[ \t]+", " ", "".join(parser.parts))


def feed_records(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".csv":
        return list(csv.DictReader(io.StringIO(text)))
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def render_record(record: dict) -> str:
    return "\n".join(f"{str(k).replace('_', ' ').capitalize()}: {v}" for k, v in record.items()
                     if v not in (None, "", [], {}))


def load_documents(docs_dir: Path) -> tuple[dict[str, str], set[str], list[str]]:
    """doc_id -> text, the ids of prose documents, and problems with the documents."""
    docs, prose, problems = {}, set(), []
    for path in sorted(p for p in docs_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(docs_dir)
        stem = relative.with_suffix("").as_posix()
        suffix = path.suffix.lower()
        if suffix in PROSE:
            raw = path.read_text(encoding="utf-8")
            docs[stem] = html_text(raw) if suffix in (".html", ".htm") else raw
            prose.add(stem)
            if suffix in (".md", ".markdown") and relative.parts[0] == "policies":
                if not re.search(r"^# \S", raw, flags=re.MULTILINE):
                    problems.append(f"docs/{relative}: no '# ' title")
                if len(re.findall(r"^## \S", raw, flags=re.MULTILINE)) < 2:
                    problems.append(f"docs/{relative}: fewer than two '## ' sections")
        elif suffix in FEEDS:
            for n, record in enumerate(feed_records(path), 1):
                fields = {k.strip().lower(): v for k, v in record.items()}
                key = next((str(fields[f]).strip() for f in ID_FIELDS if str(fields.get(f) or "").strip()), str(n))
                if f"{stem}/{key}" in docs:
                    problems.append(f"docs/{relative}: duplicate record id {key!r}")
                docs[f"{stem}/{key}"] = render_record(record)
        else:
            problems.append(f"docs/{relative}: not a format the desk reads")
    if not DOCUMENTS[0] <= len(prose) <= DOCUMENTS[1]:
        problems.append(f"{len(prose)} prose documents, want {DOCUMENTS[0]}-{DOCUMENTS[1]}")
    return docs, prose, problems


def check_row(row: dict, docs: dict[str, str], prose: set[str]) -> list[str]:
    """Problems with one question; empty when it is fine."""
    if tuple(row) != FIELDS:
        return [f"fields must be exactly {FIELDS} in that order, got {tuple(row)}"]
    problems = []
    kind, ids, fact = row["kind"], row["doc_ids"], row["key_fact"]
    if not isinstance(row["id"], str) or not ID_PATTERN.fullmatch(row["id"]):
        problems.append(f"id {row['id']!r} is not like s0001")
    if kind not in KINDS:
        problems.append(f"unknown kind {kind!r}")
    if row["style"] not in STYLES:
        problems.append(f"unknown style {row['style']!r}")
    if not isinstance(row["question"], str) or not row["question"].strip():
        problems.append("empty question")
    if row["customer_id"] is not None:
        problems.append("customer_id must be null: this shop has no customers")
    if not isinstance(ids, list) or not all(isinstance(d, str) for d in ids) or not isinstance(fact, str):
        return problems + ["doc_ids must be a list of strings and key_fact a string"]
    if len(set(ids)) != len(ids):
        problems.append("doc_ids repeat")
    missing = [d for d in ids if d not in docs]
    if missing:
        problems.append(f"unknown doc_ids {missing}")
    if kind in ("unanswerable", "handoff"):
        if ids or fact:
            problems.append(f"{kind} questions need doc_ids [] and key_fact ''")
        return problems
    if not ids or not fact.strip():
        return problems + ["answerable questions need doc_ids and a key_fact"]
    if len(fact.split()) > MAX_KEY_FACT_WORDS:
        problems.append(f"key_fact {fact!r} is longer than {MAX_KEY_FACT_WORDS} words")
    for doc_id in ids:
        if doc_id in docs and fact.lower() not in docs[doc_id].lower():
            problems.append(f"key_fact {fact!r} not in {doc_id}")
    if "faq" in ids and any(d.startswith("policies/") for d in ids[ids.index("faq"):]):
        problems.append("list policies before the FAQ in doc_ids")
    if kind == "faq":
        if "faq" not in ids:
            problems.append("faq questions cite the FAQ")
        also = sorted(d for d in prose if d != "faq" and d not in ids and fact.lower() in docs[d].lower())
        if also:
            problems.append(f"FAQ fact {fact!r} also appears in {also}: list them or pick another fact")
    if kind == "sku":
        named = SKU_PATTERN.findall(row["question"])
        if not named or any(not any(d.endswith("/" + sku) for d in ids) for sku in named):
            problems.append("sku questions must name the SKU they are about")
    if kind in ("product", "sku") and not any(d not in prose for d in ids):
        problems.append(f"{kind} questions cite a product record")
    return problems


def check_counts(rows: list[dict], docs: dict[str, str]) -> tuple[dict[str, int], list[str]]:
    kinds = Counter(r["kind"] for r in rows)
    styles = Counter(r["style"] for r in rows)
    counts = {
        "answerable": sum(kinds[k] for k in ANSWERABLE),
        "refused": kinds["unanswerable"] + kinds["handoff"],
        "unanswerable": kinds["unanswerable"], "handoff": kinds["handoff"],
        "faq-cited": sum("faq" in r["doc_ids"] for r in rows if r["kind"] in ANSWERABLE),
        "product+sku": kinds["product"] + kinds["sku"], "sku": kinds["sku"],
        "paraphrase": styles["paraphrase"], "typo": styles["typo"], "casual": styles["casual"],
    }
    problems = [f"need at least {n} {name}, have {counts[name]}" for name, n in MINIMUMS.items() if counts[name] < n]
    per_file = Counter(d for r in rows if r["kind"] == "policy" for d in r["doc_ids"] if d.startswith("policies/"))
    for doc_id in sorted(d for d in docs if d.startswith("policies/")):
        if per_file[doc_id] < MIN_PER_POLICY_FILE:
            problems.append(f"{doc_id} has {per_file[doc_id]} policy questions, need {MIN_PER_POLICY_FILE}")
    return counts, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    args = parser.parse_args()
    docs, prose, problems = load_documents(args.docs)
    rows = []
    for n, line in enumerate(args.questions.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON ({exc})")
            continue
        if not isinstance(row, dict):
            problems.append(f"line {n}: not a JSON object")
            continue
        rows.append(row)
    for id_, seen in Counter(r.get("id") for r in rows).items():
        if seen > 1:
            problems.append(f"id {id_} used {seen} times")
    for row in rows:
        problems += [f"{row.get('id')}: {p}" for p in check_row(row, docs, prose)]
    rows = [r for r in rows if r.get("kind") in KINDS and r.get("style") in STYLES and isinstance(r.get("doc_ids"), list)]
    counts, count_problems = check_counts(rows, docs)
    problems += count_problems

    records = len(docs) - len(prose)
    print(f"{len(prose)} documents and {records} feed records in {args.docs}")
    print(f"{len(rows)} questions in {args.questions}")
    print("  by kind:  " + ", ".join(f"{k} {sum(r['kind'] == k for r in rows)}" for k in KINDS))
    print("  by style: " + ", ".join(f"{s} {sum(r['style'] == s for r in rows)}" for s in STYLES))
    print("  minimums: " + ", ".join(f"{name} {counts[name]}/{n}" for name, n in MINIMUMS.items()))
    per_file = Counter(d for r in rows if r["kind"] == "policy" for d in r["doc_ids"] if d.startswith("policies/"))
    print("  policy questions per policy file: " + ", ".join(
        f"{d.removeprefix('policies/')} {per_file[d]}" for d in sorted(x for x in docs if x.startswith("policies/"))))
    if problems:
        print(f"FAILED: {len(problems)} problem(s)")
        for problem in problems:
            print(f"  {problem}")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
