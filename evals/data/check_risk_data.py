"""Validate the churn-risk data sets and print their counts.

    python evals/data/check_risk_data.py

Checks evals/data/risk/messages.jsonl (labeled shopper messages),
evals/data/risk/crosscheck.jsonl (the cross-check set, kept apart) and
evals/data/offer_conversations.jsonl (scripted conversations for offer
decisions): schema, unique ids and texts, label rules, minimum counts per
label / tag / kind / source / language, rough label mix, that no base message
has variants in two splits, that the frozen test split still has the
fingerprint recorded in test_split.sha256, and that no cross-check text is a
labeled message. Exits 1 and lists every problem found.
Standard library only, so it runs before any dependency is installed.
"""
import argparse
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "evals" / "data" / "risk" / "messages.jsonl"
CONVERSATIONS = ROOT / "evals" / "data" / "offer_conversations.jsonl"
CROSSCHECK = ROOT / "evals" / "data" / "risk" / "crosscheck.jsonl"
FINGERPRINT = ROOT / "evals" / "data" / "risk" / "test_split.sha256"

SENTIMENTS = {"negative", "neutral", "positive"}
SPLITS = {"train", "val", "test"}
SOURCES = {"v1", "v2"}
LANGS = {"en", "es", "de", "fr"}
TAGS = {"sarcasm", "negation", "mixed", "typo", "short", "long", "caps", "emoji", "question",
        "competitor", "chargeback", "polite_angry",
        # v2 (issue 34): the block a hand-written line came from, and its language
        "quiet", "angry", "churn", "escalation", "third_party", "praise_loud", "mild", "fragment",
        "es", "de", "fr"}
MESSAGE_KEYS = {"id", "text", "sentiment", "churn_intent", "at_risk", "tags", "split"}
OPTIONAL_MESSAGE_KEYS = {"base", "source", "lang"}  # base groups variants of one hand-written message

MIN_MESSAGES = 4000
MIN_BASES = 2000
MIN_V2 = 2000  # lines written for issue 34, not by the hand that wrote the cues
MIN_PER_LANGUAGE = 120  # es, de, fr
MIN_CROSSCHECK = 300
MIN_PER_TAG = 10
# (low, high) share of all messages.
MIX = {
    ("sentiment", "neutral"): (0.30, 0.45),
    ("sentiment", "positive"): (0.12, 0.22),
    ("sentiment", "negative"): (0.40, 0.56),
    ("at_risk", True): (0.36, 0.48),
    ("churn_intent", True): (0.06, 0.16),
    ("split", "test"): (0.18, 0.26),
    ("split", "val"): (0.08, 0.16),
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
        # words as the generators count them: a lone "?" (French spacing) is not a word
        n_words = len([w for w in r["text"].split() if any(c.isalnum() for c in w)])
        if "short" in r["tags"] and n_words > 4:
            errors.append(f"{at}: tagged short but has {n_words} words")
        ids[r["id"]] += 1
        texts[r["text"]] += 1
        base_splits[r.get("base", r["id"])].add(r["split"])
    errors += [f"{where}: duplicate id {i}" for i, c in ids.items() if c > 1]
    errors += [f"{where}: duplicate text {t!r}" for t, c in texts.items() if c > 1]
    leaked = sorted(b for b, s in base_splits.items() if len(s) > 1)
    errors += [f"{where}: base {b} has variants in two splits" for b in leaked]
    for r in rows:
        if isinstance(r, dict) and (r.get("source", "v1") not in SOURCES or r.get("lang", "en") not in LANGS):
            errors.append(f"{where}: {r.get('id')}: bad source or lang")

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
    # Both classes are well represented in test (v1: 25% per block; v2: 20% by hash).
    for value in (True, False):
        cls = [r for r in good if r["at_risk"] is value]
        share = sum(r["split"] == "test" for r in cls) / max(len(cls), 1)
        if not 0.15 <= share <= 0.30:
            errors.append(f"{where}: at_risk={value} has {share:.1%} in test, expected ~20-25%")
    sources = Counter(r.get("source", "v1") for r in good)
    if sources["v2"] < MIN_V2:
        errors.append(f"{where}: {sources['v2']} v2 messages, need at least {MIN_V2}")
    langs = Counter(r.get("lang", "en") for r in good)
    for lang in sorted(LANGS - {"en"}):
        if langs[lang] < MIN_PER_LANGUAGE:
            errors.append(f"{where}: {langs[lang]} messages in {lang}, need {MIN_PER_LANGUAGE}")
    if FINGERPRINT.exists() and test_fingerprint(good) != FINGERPRINT.read_text().strip():
        errors.append(f"{where}: the test split differs from the frozen one ({FINGERPRINT.name}); "
                      "see evals/data/risk/README.md before changing it")

    tables = {"messages": total, "base messages": len(base_splits)}
    for key in ("sentiment", "churn_intent", "at_risk", "split"):
        tables[key] = dict(sorted(Counter(str(r[key]).lower() for r in good).items()))
    tables["at_risk by split"] = dict(sorted(
        Counter(f"{r['split']}/{str(r['at_risk']).lower()}" for r in good).items()))
    tables["sentiment x at_risk"] = dict(sorted(
        Counter(f"{r['sentiment']}/{str(r['at_risk']).lower()}" for r in good).items()))
    tables["tags"] = dict(sorted(tag_counts.items()))
    tables["source x split"] = dict(sorted(
        Counter(f"{r.get('source', 'v1')}/{r['split']}" for r in good).items()))
    tables["lang"] = dict(sorted(langs.items()))
    return tables


def test_fingerprint(rows):
    """sha256 over the test split's texts and labels in text order (as build_messages.py)."""
    lines = sorted(
        json.dumps([r["text"], r["at_risk"], r["churn_intent"], r["sentiment"]], ensure_ascii=False)
        for r in rows if r["split"] == "test"
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def check_crosscheck(rows, errors, messages):
    """The cross-check set: enough rows, both classes, no text shared with the labeled set."""
    where = CROSSCHECK.name
    known = {m["text"].strip().lower() for m in messages if isinstance(m, dict) and "text" in m}
    for n, r in enumerate(rows, 1):
        if not (isinstance(r, dict) and set(r) == {"id", "text", "at_risk"}
                and isinstance(r["at_risk"], bool) and isinstance(r["text"], str) and r["text"].strip()):
            errors.append(f"{where}:{n}: need exactly id, text, at_risk")
            continue
        if r["text"].strip().lower() in known:
            errors.append(f"{where}:{n}: {r['text']!r} is also a labeled message")
    if len(rows) < MIN_CROSSCHECK:
        errors.append(f"{where}: {len(rows)} messages, need at least {MIN_CROSSCHECK}")
    return {"messages": len(rows),
            "at_risk": dict(Counter(str(r.get("at_risk")).lower() for r in rows if isinstance(r, dict)))}


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
    messages = read_jsonl(args.messages, errors)
    for title, path, check in (
        ("messages", args.messages, lambda rows, errs: check_messages(messages, errs)),
        ("cross-check", CROSSCHECK, lambda rows, errs: check_crosscheck(rows, errs, messages)),
        ("conversations", args.conversations, check_conversations),
    ):
        tables = check(read_jsonl(path, errors) if path != args.messages else messages, errors)
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
