"""Check the scripted conversations against the demo shop they are labeled from.

    python evals/data/conversations/check.py [--conversations evals/data/conversations/conversations.jsonl]

Verifies: ids unique; kinds known, with at least MIN_PER_KIND conversations each (probe
MIN_PROBES) and MIN_CONVERSATIONS in all; 2-4 turns each; every turn has a language and
exactly one expectation; every key fact is in the shop's data: at least one of a turn's
key_facts occurs, case-insensitively, in one of its doc_ids (documents rendered as
evals/data/check_dev_questions.py renders them), and every other alternative either occurs
there too or carries exactly the same numbers (a translation: "30 días" of "30 days");
order questions are about the shopper's own orders; order_not_found turns name an order
that is not the shopper's; language_xx conversations are wholly in xx. Exits 1 and lists
every problem if anything fails.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))  # run as a script: the dev-question checker renders the documents

from evals.data.check_dev_questions import load_documents  # noqa: E402

DEFAULT_CONVERSATIONS = Path(__file__).with_name("conversations.jsonl")
KINDS = ("follow_up", "correction", "typo", "language_es", "language_de", "language_fr", "order_mixup",
         "off_topic", "angry_then_calm", "probe")
LANGUAGES = ("en", "es", "de", "fr")
EXPECTATIONS = ("handoff", "order_not_found", "any")
MIN_CONVERSATIONS, MIN_PER_KIND, MIN_PROBES = 150, 15, 20


def numbers(text: str) -> list[str]:
    return re.findall(r"\d+", text)


def check_facts(turn: dict, docs: dict[str, str]) -> list[str]:
    """Problems with a key-fact turn: its facts must be in its documents."""
    facts, ids = turn.get("key_facts"), turn.get("doc_ids")
    if not isinstance(facts, list) or not facts or not all(isinstance(f, str) and f.strip() for f in facts):
        return ["key_facts must be a non-empty list of strings"]
    if not isinstance(ids, list) or not ids:
        return ["a key-fact turn needs doc_ids"]
    missing = [d for d in ids if d not in docs]
    if missing:
        return [f"unknown doc_ids {missing}"]
    text = "\n".join(docs[d] for d in ids).lower()
    found = [f for f in facts if f.lower() in text]
    if not found:
        return [f"none of {facts} is in {ids}"]
    stated = {tuple(numbers(f)) for f in found}
    return [f"{f!r} is not in {ids} and is no translation of {found}" for f in facts
            if f not in found and (not numbers(f) or tuple(numbers(f)) not in stated)]


def check_turn(turn: dict, conversation: dict, docs: dict[str, str], owners: dict[str, int]) -> list[str]:
    problems = []
    if not isinstance(turn.get("text"), str) or not turn["text"].strip():
        problems.append("empty text")
    if turn.get("language") not in LANGUAGES:
        problems.append(f"language {turn.get('language')!r} is not one of {LANGUAGES}")
    if ("key_facts" in turn) == ("expect" in turn):
        return problems + ["a turn has either key_facts or expect"]
    if "key_facts" in turn:
        problems += check_facts(turn, docs)
        for doc_id in turn.get("doc_ids") or []:
            if doc_id.startswith("order/") and owners.get(doc_id.removeprefix("order/")) != conversation["customer_id"]:
                problems.append(f"{doc_id} is not customer {conversation['customer_id']}'s")
        return problems
    if turn["expect"] not in EXPECTATIONS:
        problems.append(f"expect {turn['expect']!r} is not one of {EXPECTATIONS}")
    if turn["expect"] == "order_not_found":
        number = turn.get("order")
        if conversation["customer_id"] is None:
            problems.append("order_not_found needs a signed-in customer")
        if not number or number not in turn["text"]:
            problems.append("order_not_found turns name their order in text and in `order`")
        elif owners.get(number) == conversation["customer_id"]:
            problems.append(f"{number} is the customer's own order")
    return problems


def check_conversation(conversation: dict, docs: dict[str, str], owners: dict[str, int]) -> list[str]:
    """Problems with one conversation; empty when it is fine."""
    if set(conversation) != {"id", "kind", "customer_id", "turns"}:
        return [f"fields must be id, kind, customer_id, turns; got {sorted(conversation)}"]
    problems = []
    kind, turns = conversation["kind"], conversation["turns"]
    if kind not in KINDS:
        problems.append(f"unknown kind {kind!r}")
    if not isinstance(turns, list) or not 2 <= len(turns) <= 4:
        return problems + ["a conversation has 2-4 turns"]
    if kind.startswith("language_") and any(t.get("language") != kind.removeprefix("language_") for t in turns):
        problems.append(f"every turn of a {kind} conversation is in {kind.removeprefix('language_')}")
    for n, turn in enumerate(turns):
        problems += [f"turn {n}: {p}" for p in check_turn(turn, conversation, docs, owners)]
    return problems


def check_counts(conversations: list[dict]) -> list[str]:
    kinds = Counter(c.get("kind") for c in conversations)
    problems = [f"{kind} has {kinds[kind]} conversations, need {MIN_PROBES if kind == 'probe' else MIN_PER_KIND}"
                for kind in KINDS if kinds[kind] < (MIN_PROBES if kind == "probe" else MIN_PER_KIND)]
    if len(conversations) < MIN_CONVERSATIONS:
        problems.append(f"{len(conversations)} conversations, need {MIN_CONVERSATIONS}")
    return problems


def check_all(conversations: list[dict]) -> list[str]:
    """Every problem with the set, each prefixed by the conversation id."""
    docs, owners = load_documents()
    problems = [f"id {id_} used {seen} times" for id_, seen in Counter(c.get("id") for c in conversations).items()
                if seen > 1]
    for conversation in conversations:
        problems += [f"{conversation.get('id')}: {p}" for p in check_conversation(conversation, docs, owners)]
    return problems + check_counts(conversations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=Path, default=DEFAULT_CONVERSATIONS)
    args = parser.parse_args()
    conversations, problems = [], []
    for n, line in enumerate(args.conversations.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            conversations.append(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON ({exc})")
    problems += check_all(conversations)
    kinds = Counter(c.get("kind") for c in conversations)
    print(f"{len(conversations)} conversations, {sum(len(c.get('turns', [])) for c in conversations)} turns "
          f"in {args.conversations}")
    print("  by kind: " + ", ".join(f"{k} {kinds[k]}" for k in KINDS))
    if problems:
        print(f"FAILED: {len(problems)} problem(s)")
        for problem in problems:
            print(f"  {problem}")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
