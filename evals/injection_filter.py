"""The injection filter and the staff-sentence detector (chatbot/prompt.py), measured.

    .venv/bin/python -m evals.injection_filter

Two questions, each asked of both shops' documents and of a labelled set of lines:

- What does the filter drop from evidence? On the shops' own documents every dropped line is
  a false removal (they are the shop's wording, not attacks): the target is 0. On
  evals/data/injections.jsonl it must drop every `attack` line (recall) and keep every
  `staff` and `shopper` line: imperatives a shop writes for its agents ("Tell the customer
  you can delay the shipping date") or its shoppers ("Please ignore the packing slip").
- Which sentences does the fallback refuse to quote because they are written for staff? On
  the demo shop's documents (written for shoppers) that should be about none; the second
  shop's are listed so a person can judge them; on the labelled set, `staff` lines should
  be marked and `shopper` lines not.

Documents are read as `knowledge build` reads them, one line at a time as `quote()` sees
them. The labelled lines have a `split`: `dev` lines were written alongside the cues and
tuned on; `holdout` lines were written after the cues were fixed and never tuned on, so
their recall says how the cues do on phrasings nobody tried. Tune on a holdout line and it
becomes `dev`: write new holdout lines.
"""

from __future__ import annotations

import re
from pathlib import Path

from evals.suite import DATA_DIR, SuiteResult, load_jsonl

SHOPS = {
    "demo": Path(__file__).resolve().parent.parent / "knowledge" / "demo" / "docs",
    "second_shop": DATA_DIR / "second_shop" / "docs",
}
LABELLED = DATA_DIR / "injections.jsonl"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def shop_lines(folder: Path) -> list[tuple[str, str]]:
    """(doc_id, line) for every non-blank line of the folder's documents, as indexed."""
    from knowledge.readers import Unreadable, read_file

    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            documents, _ = read_file(path, path.relative_to(folder))
        except Unreadable:
            continue
        lines += [(d.doc_id, line.strip()) for d in documents for line in d.text.splitlines() if line.strip()]
    return lines


def sentences(line: str) -> list[str]:
    """A line's sentences, split as the fallback splits them."""
    return [s for s in (p.strip(" -*#\t") for p in _SENTENCE_END.split(line)) if len(s.split()) >= 2]


def injection_filter_suite() -> SuiteResult:
    """False removals on two shops' documents, recall on labelled injections, staff sentences."""
    from chatbot.prompt import addresses_staff, is_instruction

    rows, metrics, notes = [], {}, []
    for shop, folder in SHOPS.items():
        lines = shop_lines(folder)
        removed = [(doc, line) for doc, line in lines if is_instruction(line)]
        said = [(doc, s) for doc, line in lines for s in sentences(line)]
        staff = [(doc, s) for doc, s in said if addresses_staff(s)]
        rows.append({"set": f"{shop} documents", "lines": len(lines), "dropped": len(removed),
                     "sentences": len(said), "staff_sentences": len(staff)})
        metrics[f"{shop}_false_removals"] = len(removed)
        metrics[f"{shop}_staff_sentences"] = len(staff)
        notes += [f"- {shop}: dropped `{doc}`: {line}" for doc, line in removed]
        notes += [f"- {shop}: staff `{doc}`: {s}" for doc, s in staff]

    labelled = load_jsonl(LABELLED)
    for split in ("dev", "holdout"):
        for label in ("attack", "staff", "shopper"):
            items = [r for r in labelled if r["split"] == split and r["label"] == label]
            dropped = [r for r in items if is_instruction(r["text"])]
            marked = [r for r in items if addresses_staff(r["text"])]
            rows.append({"set": f"injections.jsonl {split} {label}", "lines": len(items), "dropped": len(dropped),
                         "sentences": len(items), "staff_sentences": len(marked)})
            if label == "attack":
                metrics[f"{split}_attack_recall"] = round(len(dropped) / len(items), 3)
                notes += [f"- missed {r['id']} ({r['lang']}, {r['style']}): {r['text']}" for r in items
                          if r not in dropped]
                continue
            metrics[f"{split}_{label}_false_removals"] = len(dropped)
            notes += [f"- dropped {r['id']}: {r['text']}" for r in dropped]
            if label == "staff":
                metrics[f"{split}_staff_detected"] = round(len(marked) / len(items), 3)
                notes += [f"- not marked as staff {r['id']}: {r['text']}" for r in items if r not in marked]
            else:
                metrics[f"{split}_shopper_marked_staff"] = len(marked)
                notes += [f"- marked as staff {r['id']}: {r['text']}" for r in marked]
    attacks = [r for r in labelled if r["label"] == "attack"]
    for lang in sorted({r["lang"] for r in attacks}):
        items = [r for r in attacks if r["lang"] == lang]
        metrics[f"attack_recall_{lang}"] = round(sum(is_instruction(r["text"]) for r in items) / len(items), 3)
    return SuiteResult("injection_filter", metrics, rows, notes)


def main() -> None:
    from evals.report import table

    result = injection_filter_suite()
    print(table(result.rows))
    print()
    print(table([{"metric": k, "value": v} for k, v in result.metrics.items()]))
    if result.notes:
        print()
        print("\n".join(result.notes))


if __name__ == "__main__":
    main()
