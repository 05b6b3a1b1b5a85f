"""Check the dev question set against the demo shop it is labeled from.

    python evals/data/check_dev_questions.py [--questions evals/data/dev_questions.jsonl]

Verifies: ids unique; fields and values well formed; every doc_id exists (policy and FAQ
files, product SKUs, order numbers); every key_fact occurs, case-insensitively, in the text
of every one of its doc_ids (products and orders rendered with all their fields); FAQ-only
facts don't also appear in a policy that isn't listed; order questions ask about an order the
customer owns; and the counts per kind and style meet the minimums. Standard library only.
Exits 1 and lists every problem if anything fails.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "knowledge" / "demo"
DEFAULT_QUESTIONS = Path(__file__).with_name("dev_questions.jsonl")

KINDS = ("policy", "faq", "product", "sku", "order", "unanswerable", "handoff")
STYLES = ("plain", "paraphrase", "typo", "casual")
FIELDS = ("id", "question", "kind", "style", "doc_ids", "key_fact", "customer_id")
ANSWERABLE = ("policy", "faq", "product", "sku", "order")
MINIMUMS = {  # what the set must contain; "per policy file" is checked separately
    "answerable": 170, "policy": 70, "faq-only": 20, "product+sku": 40, "sku": 15, "order": 25,
    "unanswerable": 35, "handoff": 10, "paraphrase": 30, "typo": 20, "casual": 10,
}
MIN_PER_POLICY_FILE = 3
SKU_PATTERN = re.compile(r"RO-[A-Z]{3}-\d{4}")


def render_product(p: dict) -> str:
    """Every field of a product as text, with the price both raw and as dollars."""
    lines = [p["name"], f"SKU: {p['sku']}", f"Category: {p['category']}",
             f"Price: {p['price']} (${p['price']:.2f})", p["description"],
             f"Materials: {p['materials']}", f"Care: {p['care']}"]
    lines += [f"{k}: {v}" for k, v in p["specs"].items()]
    lines += [f"Variant: {v['size']} / {v['colour']} ({v['stock']} in stock)" for v in p["variants"]]
    return "\n".join(lines)


def render_order(o: dict) -> str:
    """Every field of an order as text, items included."""
    lines = [f"{k}: {v}" for k, v in o.items() if k != "items"]
    lines += [f"Item: {i['quantity']} x {i['name']} ({i['sku']}, {i['size']}, {i['colour']}) at "
              f"{i['unit_price']} (${i['unit_price']:.2f})" for i in o["items"]]
    return "\n".join(lines)


def load_documents() -> tuple[dict[str, str], dict[str, int]]:
    """doc_id -> text for every document, and order number -> owning customer id."""
    docs = {f"policies/{p.stem}": p.read_text(encoding="utf-8") for p in (DEMO / "docs" / "policies").glob("*.md")}
    docs["faq"] = (DEMO / "docs" / "faq.md").read_text(encoding="utf-8")
    store = DEMO / "store"
    for p in json.loads((store / "products.json").read_text(encoding="utf-8")):
        docs[f"product/{p['sku']}"] = render_product(p)
    owners = {}
    for o in json.loads((store / "orders.json").read_text(encoding="utf-8")):
        docs[f"order/{o['number']}"] = render_order(o)
        owners[o["number"]] = o["customer_id"]
    return docs, owners


def check_row(row: dict, docs: dict[str, str], owners: dict[str, int]) -> list[str]:
    """Problems with one question; empty when it is fine."""
    if tuple(row) != FIELDS:
        return [f"fields must be exactly {FIELDS} in that order, got {tuple(row)}"]
    problems = []
    kind, ids, fact = row["kind"], row["doc_ids"], row["key_fact"]
    if kind not in KINDS:
        problems.append(f"unknown kind {kind!r}")
    if row["style"] not in STYLES:
        problems.append(f"unknown style {row['style']!r}")
    if not isinstance(row["question"], str) or not row["question"].strip():
        problems.append("empty question")
    missing = [d for d in ids if d not in docs]
    if missing:
        problems.append(f"unknown doc_ids {missing}")
    if kind in ("unanswerable", "handoff"):
        if ids or fact:
            problems.append(f"{kind} questions need doc_ids [] and key_fact ''")
        return problems
    if not ids or not fact:
        return problems + ["answerable questions need doc_ids and a key_fact"]
    for doc_id in set(ids) - set(missing):
        if fact.lower() not in docs[doc_id].lower():
            problems.append(f"key_fact {fact!r} not in {doc_id}")
    if "faq" in ids and any(d.startswith("policies/") for d in ids[ids.index("faq"):]):
        problems.append("list policies before the FAQ in doc_ids")
    if kind == "faq":
        also = [d for d, text in docs.items()
                if d.startswith("policies/") and d not in ids and fact.lower() in text.lower()]
        if also:
            problems.append(f"FAQ fact {fact!r} also appears in {also}: list them or pick another fact")
    if kind == "sku":
        named = SKU_PATTERN.findall(row["question"])
        if not named or any(f"product/{sku}" not in ids for sku in named):
            problems.append("sku questions must name the SKU they are about")
    if kind == "order":
        numbers = [d.removeprefix("order/") for d in ids]
        if not all(d.startswith("order/") for d in ids):
            problems.append("order questions cite orders only")
        elif any(owners.get(n) != row["customer_id"] for n in numbers):
            problems.append(f"customer {row['customer_id']} doesn't own {numbers}")
    elif row["customer_id"] is not None:
        problems.append("only order questions carry a customer_id")
    return problems


def check_counts(rows: list[dict], docs: dict[str, str]) -> tuple[dict[str, int], list[str]]:
    kinds = Counter(r["kind"] for r in rows)
    styles = Counter(r["style"] for r in rows)
    counts = {
        "answerable": sum(kinds[k] for k in ANSWERABLE), "policy": kinds["policy"],
        "faq-only": sum(r["kind"] == "faq" and r["doc_ids"] == ["faq"] for r in rows),
        "product+sku": kinds["product"] + kinds["sku"], "sku": kinds["sku"], "order": kinds["order"],
        "unanswerable": kinds["unanswerable"], "handoff": kinds["handoff"],
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
    args = parser.parse_args()
    docs, owners = load_documents()
    rows, problems = [], []
    for n, line in enumerate(args.questions.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON ({exc})")
    for id_, seen in Counter(r.get("id") for r in rows).items():
        if seen > 1:
            problems.append(f"id {id_} used {seen} times")
    for row in rows:
        problems += [f"{row.get('id')}: {p}" for p in check_row(row, docs, owners)]
    counts, count_problems = check_counts(rows, docs)
    problems += count_problems

    print(f"{len(rows)} questions in {args.questions}")
    print("  by kind:  " + ", ".join(f"{k} {sum(r['kind'] == k for r in rows)}" for k in KINDS))
    print("  by style: " + ", ".join(f"{s} {sum(r['style'] == s for r in rows)}" for s in STYLES))
    print("  minimums: " + ", ".join(f"{name} {counts[name]}/{n}" for name, n in MINIMUMS.items()))
    if problems:
        print(f"FAILED: {len(problems)} problem(s)")
        for problem in problems:
            print(f"  {problem}")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
