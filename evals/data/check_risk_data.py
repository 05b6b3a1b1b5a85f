"""Validate the churn-risk data sets and print their counts.

    python evals/data/check_risk_data.py

Checks evals/data/risk/messages.jsonl (labeled shopper messages) and
evals/data/offer_conversations.jsonl (scripted conversations for offer
decisions): schema, unique ids and texts, label rules, minimum counts per
label / tag / kind, rough label mix, and that no base message has variants in
both the train and the test split. Exits 1 and lists every problem found.
Standard library only, so it runs before any dependency is installed.
"""
import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "evals" / "data" / "risk" / "messages.jsonl"
CONVERSATIONS = ROOT / "evals" / "data" / "offer_conversations.jsonl"

SENTIMENTS = {"negative", "neutral", "positive"}
SPLITS = {"train", "test"}
TAGS = {"sarcasm", "negation", "mixed", "typo", "short", "long", "caps", "emoji", "question",
        "competitor", "chargeback", "polite_angry"}
MESSAGE_KEYS = {"id", "text", "sentiment", "churn_intent", "at_risk", "tags", "split"}
OPTIONAL_MESSAGE_KEYS = {"base"}  # groups variants of one hand-written message

MIN_MESSAGES = 1600
MIN_BASES = 900
MIN_PER_TAG = 10
# (low, high) share of all messages; the brief asks for roughly 45/20/35, 30 and 12.
MIX = {
    ("sentiment", "neutral"): (0.38, 0.52),
    ("sentiment", "positive"): (0.14, 0.26),
    ("sentiment", "negative"): (0.28, 0.42),
    ("at_risk", True): (0.24, 0.36),
    ("churn_intent", True): (0.08, 0.16),
    ("split", "test"): (0.20, 0.30),
}

KINDS = {"calm", "mild_complaint", "escalating", "cancellation", "offer_begging", "injection",
         "lost_parcel", "high_value_angry", "legal"}
CONVERSATION_KEYS = {"id", "kind", "customer_id", "turns", "expect_offer", "expect_handoff", "note"}
OPTIONAL_CONVERSATION_KEYS = {"offer_turn", "handoff_turn"}
MIN_CONVERSATIONS = 48
MIN_PER_KIND = 6
MAX_TURNS = 6
CUSTOMER_IDS = range(1, 121)  # the demo shop's customers
# kind -> (expect_offer, expect_handoff); None means "either, per conversation"
EXPECTATIONS = {
    "calm": (False, False),
    "mild_complaint": (False, False),
    "offer_begging": (False, False),
    "injection": (False, False),
    "escalating": (True, False),
    "cancellation": (None, False),  # an offer only with a second kind of signal (offers policy min_signals)
    "lost_parcel": (True, False),
    "high_value_angry": (True, False),
    "legal": (False, True),
}
LOST_RE = re.compile(r"\blost\b|never (arrived|showed up|came)|arrived empty|box arrived empty|"
                     r"not here|sent it back|returned it", re.I)


def read_jsonl(path, errors):
    rows = []
    if not path.exists():
        errors.append(f"{path}: missing")
        return rows
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                errors.append(f"{path.name}:{n}: blank line")
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                errors.append(f"{path.name}:{n}: bad JSON ({e})")
    return rows


def check_messages(rows, errors):
    """Validate the labeled messages and return printable count tables."""
    where = MESSAGES.name
    ids, texts = Counter(), Counter()
    base_splits = defaultdict(set)
    for n, r in enumerate(rows, 1):
        at = f"{where}:{n}"
        if not isinstance(r, dict):
            errors.append(f"{at}: not an object")
            continue
        keys = set(r)
        if MESSAGE_KEYS - keys:
            errors.append(f"{at}: missing keys {sorted(MESSAGE_KEYS - keys)}")
            continue
        if keys - MESSAGE_KEYS - OPTIONAL_MESSAGE_KEYS:
            errors.append(f"{at}: unknown keys {sorted(keys - MESSAGE_KEYS - OPTIONAL_MESSAGE_KEYS)}")
        if not (isinstance(r["id"], str) and re.fullmatch(r"m\d{5}", r["id"])):
            errors.append(f"{at}: bad id {r['id']!r}")
        if not (isinstance(r["text"], str) and r["text"].strip() and r["text"] == r["text"].strip()):
            errors.append(f"{at}: text must be a non-empty stripped string")
            continue
        if r["sentiment"] not in SENTIMENTS:
            errors.append(f"{at}: bad sentiment {r['sentiment']!r}")
        for key in ("churn_intent", "at_risk"):
            if not isinstance(r[key], bool):
                errors.append(f"{at}: {key} must be true/false")
        if r["split"] not in SPLITS:
            errors.append(f"{at}: bad split {r['split']!r}")
        if not (isinstance(r["tags"], list) and set(r["tags"]) <= TAGS
                and len(set(r["tags"])) == len(r["tags"])):
            errors.append(f"{at}: tags must be a list of distinct known tags, got {r['tags']!r}")
        # Label rules from the data card.
        if r["churn_intent"] and not r["at_risk"]:
            errors.append(f"{at}: churn_intent implies at_risk")
        if r["sentiment"] == "positive" and r["at_risk"]:
            errors.append(f"{at}: a positive message is never at_risk")
        n_words = len(r["text"].split())
        if "short" in r["tags"] and n_words > 4:
            errors.append(f"{at}: tagged short but has {n_words} words")
        ids[r["id"]] += 1
        texts[r["text"]] += 1
        base_splits[r.get("base", r["id"])].add(r["split"])
    errors += [f"{where}: duplicate id {i}" for i, c in ids.items() if c > 1]
    errors += [f"{where}: duplicate text {t!r}" for t, c in texts.items() if c > 1]
    leaked = sorted(b for b, s in base_splits.items() if len(s) > 1)
    errors += [f"{where}: base {b} has variants in both splits" for b in leaked]

    good = [r for r in rows if isinstance(r, dict) and MESSAGE_KEYS <= set(r)]
    total = len(good)
    if total < MIN_MESSAGES:
        errors.append(f"{where}: {total} messages, need at least {MIN_MESSAGES}")
    if len(base_splits) < MIN_BASES:
        errors.append(f"{where}: {len(base_splits)} base messages, need at least {MIN_BASES}")
    tag_counts = Counter(t for r in good for t in r["tags"])
    for tag in sorted(TAGS):
        if tag_counts[tag] < MIN_PER_TAG:
            errors.append(f"{where}: tag {tag} on {tag_counts[tag]} messages, need {MIN_PER_TAG}")
    for (key, value), (low, high) in MIX.items():
        share = sum(r[key] == value for r in good) / max(total, 1)
        if not low <= share <= high:
            errors.append(f"{where}: {key}={value} is {share:.1%}, expected {low:.0%}-{high:.0%}")
    # The split is stratified by at_risk: each class should be ~25% test.
    for value in (True, False):
        cls = [r for r in good if r["at_risk"] is value]
        share = sum(r["split"] == "test" for r in cls) / max(len(cls), 1)
        if not 0.18 <= share <= 0.32:
            errors.append(f"{where}: at_risk={value} has {share:.1%} in test, expected ~25%")

    tables = {"messages": total, "base messages": len(base_splits)}
    for key in ("sentiment", "churn_intent", "at_risk", "split"):
        tables[key] = dict(sorted(Counter(str(r[key]).lower() for r in good).items()))
    tables["at_risk by split"] = dict(sorted(
        Counter(f"{r['split']}/{str(r['at_risk']).lower()}" for r in good).items()))
    tables["sentiment x at_risk"] = dict(sorted(
        Counter(f"{r['sentiment']}/{str(r['at_risk']).lower()}" for r in good).items()))
    tables["tags"] = dict(sorted(tag_counts.items()))
    return tables


def check_conversations(rows, errors):
    """Validate the scripted offer conversations and return printable count tables."""
    where = CONVERSATIONS.name
    ids = Counter()
    for n, c in enumerate(rows, 1):
        at = f"{where}:{n}"
        if not isinstance(c, dict):
            errors.append(f"{at}: not an object")
            continue
        keys = set(c)
        if CONVERSATION_KEYS - keys:
            errors.append(f"{at}: missing keys {sorted(CONVERSATION_KEYS - keys)}")
            continue
        if keys - CONVERSATION_KEYS - OPTIONAL_CONVERSATION_KEYS:
            errors.append(f"{at}: unknown keys {sorted(keys - CONVERSATION_KEYS - OPTIONAL_CONVERSATION_KEYS)}")
        ids[c["id"]] += 1
        if not (isinstance(c["id"], str) and re.fullmatch(r"c\d{3}", c["id"])):
            errors.append(f"{at}: bad id {c['id']!r}")
        if c["kind"] not in KINDS:
            errors.append(f"{at}: bad kind {c['kind']!r}")
            continue
        cid = c["customer_id"]
        if cid is not None and (isinstance(cid, bool) or not isinstance(cid, int) or cid not in CUSTOMER_IDS):
            errors.append(f"{at}: customer_id must be null or an int in 1..120, got {cid!r}")
        turns = c["turns"]
        if not (isinstance(turns, list) and 1 <= len(turns) <= MAX_TURNS
                and all(isinstance(t, str) and t.strip() for t in turns)):
            errors.append(f"{at}: turns must be 1-{MAX_TURNS} non-empty strings")
            continue
        if not isinstance(c["note"], str) or not c["note"].strip():
            errors.append(f"{at}: note must be a non-empty string")
        for key in ("expect_offer", "expect_handoff"):
            if not isinstance(c[key], bool):
                errors.append(f"{at}: {key} must be true/false")
        offer, handoff = EXPECTATIONS[c["kind"]]
        if (offer is not None and c["expect_offer"] is not offer) or (
                handoff is not None and c["expect_handoff"] is not handoff):
            errors.append(f"{at}: kind {c['kind']} expects offer={offer} handoff={handoff}")
        for key, flag in (("offer_turn", "expect_offer"), ("handoff_turn", "expect_handoff")):
            if key in c:
                if not c[flag]:
                    errors.append(f"{at}: {key} given but {flag} is false")
                if isinstance(c[key], bool) or not isinstance(c[key], int) or not 0 <= c[key] < len(turns):
                    errors.append(f"{at}: {key} must index a turn, got {c[key]!r}")
        if c["kind"] == "escalating" and "offer_turn" not in c:
            errors.append(f"{at}: escalating conversations need offer_turn")
        if c["kind"] == "escalating" and c.get("offer_turn") == 0:
            errors.append(f"{at}: an escalating conversation cannot boil over on its first turn")
        if c["kind"] == "lost_parcel" and not any(LOST_RE.search(t) for t in turns):
            errors.append(f"{at}: lost_parcel conversation never says the order is lost")
    errors += [f"{where}: duplicate id {i}" for i, n in ids.items() if n > 1]
    good = [c for c in rows if isinstance(c, dict) and CONVERSATION_KEYS <= set(c)]
    if len(good) < MIN_CONVERSATIONS:
        errors.append(f"{where}: {len(good)} conversations, need at least {MIN_CONVERSATIONS}")
    kinds = Counter(c["kind"] for c in good)
    for kind in sorted(KINDS):
        if kinds[kind] < MIN_PER_KIND:
            errors.append(f"{where}: {kinds[kind]} {kind} conversations, need {MIN_PER_KIND}")
    return {
        "conversations": len(good),
        "kind": dict(sorted(kinds.items())),
        "expect_offer": dict(Counter(str(c["expect_offer"]).lower() for c in good)),
        "expect_handoff": dict(Counter(str(c["expect_handoff"]).lower() for c in good)),
        "turns": dict(sorted(Counter(len(c["turns"]) for c in good).items())),
        "anonymous": sum(c["customer_id"] is None for c in good),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=Path, default=MESSAGES)
    parser.add_argument("--conversations", type=Path, default=CONVERSATIONS)
    args = parser.parse_args()
    errors = []
    for title, path, check in (("messages", args.messages, check_messages),
                               ("conversations", args.conversations, check_conversations)):
        tables = check(read_jsonl(path, errors), errors)
        print(f"== {title}: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        for name, value in tables.items():
            print(f"  {name:<20} {value}")
    if errors:
        print(f"\n{len(errors)} problem(s):", file=sys.stderr)
        for e in errors[:200]:
            print(f"  {e}", file=sys.stderr)
        sys.exit(1)
    print("\nOK")


if __name__ == "__main__":
    main()
