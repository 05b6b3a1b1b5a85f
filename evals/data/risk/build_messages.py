"""Build the labeled shopper messages (messages.jsonl) and the cross-check set
(crosscheck.jsonl) from their hand-written sources.

    python evals/data/risk/build_messages.py          # writes both files next to this one
    python evals/data/risk/build_messages.py --stats  # also prints counts

Two sources feed messages.jsonl (see README.md):
- `v1`: the original set, built by make_messages.py from the blocks in that file (the same
  hand as the cue file). Its train/test split is kept as it was.
- `v2`: the blocks in written/*.txt, written by hand in batches for issue 34 in a different
  register (quiet factual complaints, sarcasm, praise in capitals, carriers blamed or not,
  mixed messages, Spanish, German and French, typos, emoji). Each file's header fixes the
  labels of every line in it; a line may end in ``##tag tag``. Each base line gets 0-2
  surface variants (a keyboard slip, dropped apostrophes, lowercasing, a greeting for
  English), seeded by its text.

Splits: every base message (and all its variants) goes to one split. v1 keeps its test
split; v2 bases go to test by a hash of their text (20%), so adding lines never moves
existing ones. Of the remaining bases of both sources, 15% (by hash) form `val`, where the
risk model chooses its thresholds; the rest are `train`. The test split's fingerprint is
written to test_split.sha256 (checked by evals/data/check_risk_data.py): it was fixed
before any model of issue 34 was trained, and must not change without saying so.

written/crosscheck.txt becomes crosscheck.jsonl: never trained on, never used for a
threshold; the risk suite reports it on its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_messages as v1  # noqa: E402  (the original generator, beside this file)

WRITTEN = HERE / "written"
MESSAGES = HERE / "messages.jsonl"
CROSSCHECK = HERE / "crosscheck.jsonl"
FINGERPRINT = HERE / "test_split.sha256"
SEED = 34
V2_TEST = 0.20
VAL = 0.15
HEADER = re.compile(r"^#\s*(block|sentiment|churn_intent|at_risk|tags|lang|variants):\s*(.*)$")
NON_ENGLISH_TAGS = {"es", "de", "fr"}


def fraction(text: str, salt: str) -> float:
    """A stable number in [0, 1) from text: the same line always lands in the same split."""
    return int(hashlib.sha256(f"{salt}|{text}".encode()).hexdigest()[:8], 16) / 16**8


def read_block(path: Path) -> tuple[dict, list[tuple[str, set[str]]]]:
    meta, lines = {}, []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            match = HEADER.match(line)
            if match:
                meta[match.group(1)] = match.group(2).strip()
            continue
        text, _, tags = line.partition("##")
        lines.append((text.strip(), set(tags.split())))
    for key in ("block", "sentiment", "churn_intent", "at_risk", "lang"):
        if key not in meta:
            raise SystemExit(f"{path}: header lacks '# {key}:'")
    return meta, lines


def variants(text: str, lang: str, upset: bool, rng: random.Random, count: int) -> list[tuple[str, bool]]:
    """Up to count label-preserving surface rewrites: (text, sloppy)."""
    made = []
    for _ in range(count * 6):
        if len(made) >= count:
            break
        out, sloppy = text, False
        ops = ["typo", "lower"] + (["apostrophe"] if "'" in text else [])
        if lang == "en" and len(v1.words(text)) > 4 and not re.match(r"(?i)(hi|hello|hey|dear)\b", text):
            ops.append("greet")
        if v1.is_shouting(text):
            ops.remove("lower")  # shouting keeps its capitals
        for op in rng.sample(ops, min(len(ops), rng.choice([1, 1, 2]))):
            if op == "greet":
                out = v1.greet(out, rng, upset)
            elif op == "apostrophe":
                out, sloppy = out.replace("'", ""), True
            elif op == "typo":
                typoed = v1.add_typo(out, rng)
                if typoed:
                    out, sloppy = typoed, True
            elif op == "lower":
                out, sloppy = re.sub(r"[.!]+$", "", out.lower()).strip(), True
        if out != text and out not in {m for m, _ in made}:
            made.append((out, sloppy))
    return made


def build_v2() -> list[dict]:
    rows = []
    for path in sorted(WRITTEN.glob("*.txt")):
        if path.name == "crosscheck.txt":
            continue
        meta, lines = read_block(path)
        labels = {
            "sentiment": meta["sentiment"],
            "churn_intent": meta["churn_intent"] == "true",
            "at_risk": meta["at_risk"] == "true",
        }
        block_tags = set(meta.get("tags", "").split())
        lang = meta["lang"]
        rate = float(meta.get("variants", "1.2"))
        for n, (template, line_tags) in enumerate(lines, 1):
            if meta["lang"] == "mixed":  # the line names its language: ##es, ##de or ##fr
                lang = next(iter(line_tags & NON_ENGLISH_TAGS))
            rng = random.Random(f"{SEED}-{template}")
            base = f"w-{meta['block']}-{n:03d}"
            first = v1.fill(template, rng)
            extra = int(rate) + (rng.random() < rate - int(rate))
            texts = [(first, False)] + variants(first, lang, labels["at_risk"], rng, extra)
            for text, sloppy in texts:
                tags = block_tags | line_tags | v1.surface_tags(text)
                if lang != "en":
                    tags.add(lang)
                if sloppy:
                    tags.add("typo")
                rows.append({"text": text, **labels, "tags": sorted(tags), "base": base,
                             "source": "v2", "lang": lang, "block": meta["block"],
                             "template": template})
    return rows


def build() -> list[dict]:
    rng = random.Random(v1.SEED)
    old = v1.build()
    v1.assign_splits(old, rng)
    for row in old:
        row.update(source="v1", lang="en", template=row["base"])
    rows, seen = [], set()
    for row in old + build_v2():
        key = row["text"].strip()
        if key in seen:
            continue  # identical text from another base: keep the first
        seen.add(key)
        rows.append(row)
    for row in rows:
        if row["source"] == "v2":
            row["split"] = "test" if fraction(row["template"], "test") < V2_TEST else "train"
        if row["split"] == "train" and fraction(row["base"] + row["template"], "val") < VAL:
            row["split"] = "val"
    # Variants follow their base: one split per base.
    by_base = {}
    for row in rows:
        by_base.setdefault(row["base"], row["split"])
        row["split"] = by_base[row["base"]]
    random.Random(SEED).shuffle(rows)  # ids carry no information about the label
    return rows


def message_records(rows: list[dict]) -> list[dict]:
    """The rows as messages.jsonl holds them, numbered in their shuffled order."""
    return [
        {"id": f"m{i:05d}", "text": row["text"], "sentiment": row["sentiment"],
         "churn_intent": row["churn_intent"], "at_risk": row["at_risk"], "tags": row["tags"],
         "split": row["split"], "base": row["base"], "source": row["source"], "lang": row["lang"]}
        for i, row in enumerate(rows, 1)
    ]


def as_jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def test_fingerprint(rows: list[dict]) -> str:
    """sha256 over the test split's texts and labels, in text order (ids may change)."""
    lines = sorted(
        json.dumps([r["text"], r["at_risk"], r["churn_intent"], r["sentiment"]], ensure_ascii=False)
        for r in rows if r["split"] == "test"
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def build_crosscheck() -> list[dict]:
    rows = []
    for line in (WRITTEN / "crosscheck.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        mark, _, text = line.partition(" | ")
        if mark not in ("R", "-") or not text.strip():
            raise SystemExit(f"crosscheck.txt: cannot read {line!r}")
        rows.append({"id": f"x{len(rows) + 1:04d}", "text": text.strip(), "at_risk": mark == "R"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stats", action="store_true", help="print label counts")
    parser.add_argument("--freeze", action="store_true",
                        help="record the test split's fingerprint (only when changing it on purpose)")
    args = parser.parse_args()
    rows = build()
    fingerprint = test_fingerprint(rows)
    if args.freeze:
        FINGERPRINT.write_text(fingerprint + "\n")
    elif FINGERPRINT.exists() and FINGERPRINT.read_text().strip() != fingerprint:
        raise SystemExit(
            "the test split would change (its fingerprint differs from test_split.sha256): a new "
            "line landed in test, or a test line was edited. Fix the edit, or rerun with --freeze "
            "and say in README.md why the frozen split moved."
        )
    cross = build_crosscheck()
    MESSAGES.write_text(as_jsonl(message_records(rows)), encoding="utf-8")
    CROSSCHECK.write_text(as_jsonl(cross), encoding="utf-8")
    print(f"wrote {len(rows)} messages ({len({r['base'] for r in rows})} bases) to {MESSAGES.name}, "
          f"{len(cross)} to {CROSSCHECK.name}; test fingerprint {fingerprint[:16]}")
    if args.stats:
        for key in ("source", "split", "at_risk", "sentiment", "lang"):
            print(key, dict(sorted(Counter(str(r[key]) for r in rows).items())))
        print("by source/split", dict(Counter(f"{r['source']}/{r['split']}" for r in rows)))
        print("tags", dict(sorted(Counter(t for r in rows for t in r["tags"]).items())))


if __name__ == "__main__":
    main()
