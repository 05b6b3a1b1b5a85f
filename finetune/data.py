"""`python -m finetune data`: the SFT set, in exactly the pipeline's prompt format.

Drafts (question, wanted answer, cited evidence) come from the shop's documents, the demo
customers' orders, refusals, conversations, the dev set's training part and agents'
corrections. Each draft then goes through the pipeline's own step 3 (order evidence and
hybrid retrieval) and step 4 (`build_prompt`), so the adapter trains on what it will see;
the evidence it must cite is put in when retrieval missed it, and `[@]` in the answer
becomes that evidence's number. Held-out sections, customers and questions never reach
the training file: anything built from them goes to the held-out file instead.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from knowledge.phrasing import STOPWORDS
from knowledge.facts import extract
from chatbot.prompt import build_prompt
from shopcore.schemas import Evidence
from finetune.conversations import conversation_drafts
from finetune.corrections import correction_drafts
from finetune.draft import CITE, Draft
from finetune.orders import order_drafts, order_fields, stating
from finetune.questions import fact_sentences, record_drafts, record_line_answer, section_drafts
from finetune.refusals import dev_refusal_drafts, out_of_scope_drafts, to_refuse, withheld_drafts
from finetune.split import Split, split_questions
from knowledge.focus import focus, sentences

# Share of the training examples per kind, sampled to fill `size` as far as there are
# enough; agents' corrections are always all in, on top.
MIX = {"dev": 0.25, "document": 0.31, "faq": 0.06, "product": 0.11, "order": 0.14, "refusal": 0.03,
       "conversation": 0.05, "angry": 0.05}
ALWAYS = ("correction",)
EXTRA_CANDIDATES = 6  # retrieved beyond top_k, to fill in for filtered-out evidence
RESTATES = 0.5  # share of an answer's content words a sentence must say to restate it


@dataclass
class DataConfig:
    seed: int = 13
    size: int = 340  # training examples: the default run trains in under 30 minutes on 2 CPU cores
    held_out_share: float = 0.3  # of each dev question kind
    held_out_size: int = 32  # held-out examples for the evaluation loss


def build_dataset(config: DataConfig, *, settings, retriever, sessions, tokenizer, questions: list[dict],
                  out_dir: Path) -> dict:
    """Write train.jsonl, heldout.jsonl, split.json and the data card to out_dir; return the card."""
    rng = random.Random(config.seed)
    split = split_questions(questions, retriever.index.chunks, share=config.held_out_share, seed=config.seed,
                            customers=_customers(sessions))
    train, held = collect_drafts(split, retriever, sessions, rng)
    train = sample_mix(train, config.size, rng)
    held = rng.sample(held, min(config.held_out_size, len(held)))

    def render(drafts, allowed, desc):
        examples = []
        for draft in tqdm(drafts, desc=desc, unit="example"):
            example = to_example(draft, settings, retriever, sessions, tokenizer, rng, allowed)
            if example is not None:
                examples.append(example)
        return examples

    held_examples = render(held, lambda e: True, "held-out examples")
    held_questions = {_norm(q["question"]) for q in split.held_out_questions}
    train_examples = dedupe([e for e in render(train, lambda e: split.allows(e.doc_id, e.title), "training examples")
                             if _norm(e["question"]) not in held_questions])
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out_dir / "train.jsonl", train_examples)
    _write_jsonl(out_dir / "heldout.jsonl", held_examples)
    (out_dir / "split.json").write_text(json.dumps(split.to_json(), indent=1), encoding="utf-8")
    card = data_card(config, split, train_examples, held_examples, out_dir) | {"shop": settings.shop_name}
    (out_dir / "card.json").write_text(json.dumps(card, indent=1), encoding="utf-8")
    return card


def collect_drafts(split: Split, retriever, sessions, rng: random.Random) -> tuple[list[Draft], list[Draft]]:
    """All drafts, as (training, held-out) by what they are built from."""
    train, held = [], []
    for chunk in retriever.index.chunks:
        drafts = record_drafts(chunk, rng) if chunk.doc_type == "product" else section_drafts(chunk, rng)
        (train if split.allows(chunk.doc_id, chunk.heading) else held).extend(drafts)
    customers = _customers(sessions)
    train += order_drafts(sessions, [c for c in customers if c not in split.held_out_customers], rng)
    held += order_drafts(sessions, sorted(split.held_out_customers), rng)
    train += dev_drafts(split.train_questions, retriever, sessions)
    held += dev_drafts(split.held_out_questions, retriever, sessions)
    answerable = [d for d in train if d.kind in ("document", "faq", "product")]
    train += withheld_drafts(answerable, rng, count=len(answerable) // 5)
    train += out_of_scope_drafts(rng) + dev_refusal_drafts(split.train_questions)
    held += dev_refusal_drafts(split.held_out_questions)
    train += conversation_drafts([d for d in train if d.kind != "refusal"], rng, count=160)
    train += correction_drafts(sessions)
    return train, held


def dev_drafts(questions: list[dict], retriever, sessions) -> list[Draft]:
    """Answerable dev questions with the sentence (or order line) that states the key fact."""
    chunks_by_doc: dict[str, list] = {}
    for chunk in retriever.index.chunks:
        chunks_by_doc.setdefault(chunk.doc_id, []).append(chunk)
    drafts = []
    for q in questions:
        if to_refuse(q):
            continue
        found = next((hit for doc_id in q["doc_ids"]
                      for hit in [_stating(q, doc_id, chunks_by_doc, sessions)] if hit), None)
        if found:
            answer, target = found
            drafts.append(Draft("dev", q["question"], f"{answer} {CITE}", target, q.get("customer_id"),
                                origin=q["id"]))
    return drafts


def _stating(question: dict, doc_id: str, chunks_by_doc: dict, sessions) -> tuple[str, tuple[str, str]] | None:
    """The sentence of doc_id that states the question's key fact, and its section."""
    fact = question["key_fact"].lower()
    if doc_id.startswith("order/"):
        from knowledge.orders import names, order_evidence

        for evidence in order_evidence(sessions, question["customer_id"], question["question"]):
            fields = order_fields(evidence.text)
            named = names(question["question"], fields.get("Order", ""))
            answer = stating(fields, fact, latest=not named) if evidence.doc_id == doc_id else None
            if answer:
                return answer.replace(CITE, "").rstrip(), (doc_id, evidence.title)
        return None
    for chunk in chunks_by_doc.get(doc_id, []):
        lines = fact_sentences(chunk.text) + [ln.strip() for ln in chunk.text.splitlines()]
        sentence = next((s for s in lines if fact in s.lower()), None)
        if sentence:
            said = record_line_answer(chunk.title, sentence) if chunk.doc_type == "product" else None
            return said or sentence, (chunk.doc_id, chunk.heading)
    return None


def to_example(draft: Draft, settings, retriever, sessions, tokenizer, rng: random.Random, allowed) -> dict | None:
    """The draft as a prompt (pipeline steps 3 and 4) and the answer with its citation numbered;
    None when the evidence the answer cites cannot be fitted into the prompt."""
    from knowledge.orders import order_evidence

    evidence = order_evidence(sessions, draft.customer_id, draft.question, retriever.relevance)
    documents = [e for e in retriever.evidence(draft.question, settings.top_k + EXTRA_CANDIDATES)
                 if allowed(e) and not _withheld(e, draft)]
    documents = documents[:settings.top_k]
    if draft.target is not None and not any(_is_target(e, draft.target) for e in evidence + documents):
        wanted = _target_evidence(retriever, draft.target)
        if wanted is None:
            return None
        documents = documents[:settings.top_k - 1]
        documents.insert(rng.randint(0, len(documents)), wanted)
    evidence += documents
    # Step 3's focus, keeping the sentence the answer states whatever its rank: the adapter
    # learns to pick it among the others, not to answer from a sentence it cannot see.
    quoted = _answering_sentence(draft, evidence)
    evidence = focus(draft.question, evidence, retriever, settings.focus_sentences,
                     keep=lambda e, s: quoted is not None and _is_target(e, draft.target) and s == quoted)
    prompt = build_prompt(draft.question, evidence, draft.history, tokenizer=tokenizer, shop=settings.shop_name,
                          tone=settings.shop_tone, budget=settings.prompt_token_budget)
    answer = _with_context(draft.answer, quoted, next((e for e in evidence if _is_target(e, draft.target)), None),
                           _prose(retriever, draft.target))
    if CITE in answer:
        number = next((n for n, e in enumerate(prompt.evidence, 1) if _is_target(e, draft.target)), None)
        if number is None:
            return None
        answer = answer.replace(CITE, f"[{number}]")
    return {"kind": draft.kind, "question": draft.question, "messages": prompt.messages, "answer": answer,
            "origin": draft.origin, "prompt_tokens": prompt.tokens, "sources": [e.doc_id for e in prompt.evidence]}


def _answering_sentence(draft: Draft, evidence: list[Evidence]) -> str | None:
    """The sentence of the draft's target evidence that its answer states: the one holding
    most of the answer's facts, then most of its words."""
    target = next((e for e in evidence if draft.target is not None and _is_target(e, draft.target)), None)
    if target is None:
        return None
    body = draft.answer.replace(CITE, "")
    facts, words = {f.value for f in extract(body)}, set(_norm(body).split())
    return max(sentences(target.text), default=None,
               key=lambda s: (len(facts & {f.value for f in extract(s)}), len(words & set(_norm(s).split()))))


def _with_context(answer: str, quoted: str | None, target: Evidence | None, prose: bool) -> str:
    """An answer that quotes one sentence of a prose passage, followed by the passage's first
    other sentence in the prompt (its best ranked one): the rule that goes with the fact ("It
    isn't possible to split an order between two cards." + "You can combine gift cards with
    one other payment method."). A shopper gets the exception or the way out, and a small
    model that picked the wrong one of two neighbouring sentences still says the right one.
    Records (products, orders) and answers that already say more stay as they are."""
    body = answer.replace(CITE, "").rstrip()
    if not (prose and quoted and target is not None and answer.endswith(CITE) and body.endswith(quoted)):
        return answer
    others = [sentence for sentence in sentences(target.text) if sentence != quoted]
    if not others or any(line in body for line in others):
        return answer
    stop = "." if body[-1].isalnum() else ""  # a table row or list item has no full stop of its own
    return f"{body}{stop} {others[0]} {CITE}"


def _prose(retriever, target: tuple[str, str] | None) -> bool:
    """Whether the target is a passage of prose: a policy or FAQ, not a product or order record."""
    return target is not None and any((c.doc_id, c.heading) == target and c.doc_type != "product"
                                      for c in retriever.index.chunks)


def sample_mix(drafts: list[Draft], size: int, rng: random.Random) -> list[Draft]:
    """All corrections, and the other kinds by MIX, as far as there are enough."""
    chosen = [d for d in drafts if d.kind in ALWAYS]
    for kind, share in MIX.items():
        pool = [d for d in drafts if d.kind == kind]
        chosen += rng.sample(pool, min(len(pool), round(share * size)))
    rng.shuffle(chosen)
    return chosen


def dedupe(examples: list[dict]) -> list[dict]:
    """One example per question (normalized); a correction beats anything generated."""
    best: dict[str, dict] = {}
    for example in examples:
        key = _norm(example["question"]) + "|" + json.dumps(example["messages"][1:-1])
        if key not in best or example["kind"] == "correction":
            best[key] = example
    return list(best.values())


def data_card(config: DataConfig, split: Split, train: list[dict], held: list[dict], out_dir: Path) -> dict:
    tokens = sorted(e["prompt_tokens"] for e in train) or [0]
    return {
        "config": asdict(config),
        "train": dict(Counter(e["kind"] for e in train)), "train_total": len(train),
        "held_out": dict(Counter(e["kind"] for e in held)), "held_out_total": len(held),
        "held_out_questions": len(split.held_out_questions),
        "held_out_sections": len(split.held_out_sections),
        "held_out_customers": len(split.held_out_customers),
        # Which documents the examples answer from: every one must be the shop's own.
        "documents": dict(sorted(Counter(doc for e in train + held for doc in set(e.get("sources", []))).items())),
        "prompt_tokens_p50": tokens[len(tokens) // 2], "prompt_tokens_max": tokens[-1],
        "data_hash": file_hash(out_dir / "train.jsonl"),
    }


def format_card(card: dict) -> str:
    kinds = sorted(set(card["train"]) | set(card["held_out"]))
    lines = [f"shop: {card.get('shop', '?')}; examples answer from {len(card.get('documents', {}))} documents",
             "kind            train  held-out"]
    lines += [f"{k:<15} {card['train'].get(k, 0):>5}  {card['held_out'].get(k, 0):>8}" for k in kinds]
    lines += [f"{'total':<15} {card['train_total']:>5}  {card['held_out_total']:>8}",
              f"held out: {card['held_out_questions']} dev questions, {card['held_out_sections']} sections, "
              f"{card['held_out_customers']} customers",
              f"prompt tokens: median {card['prompt_tokens_p50']}, max {card['prompt_tokens_max']}",
              f"data hash: {card['data_hash'][:16]}"]
    return "\n".join(lines)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_examples(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _write_jsonl(path: Path, examples: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for example in examples:
            out.write(json.dumps(example, ensure_ascii=False) + "\n")


def _is_target(evidence: Evidence, target: tuple[str, str]) -> bool:
    return (evidence.doc_id, evidence.title) == target


def _withheld(evidence: Evidence, draft: Draft) -> bool:
    if draft.withhold is not None and _is_target(evidence, draft.withhold):
        return True
    text = evidence.text.lower()
    if any(fact.lower() in text for fact in draft.exclude_facts):
        return True
    # A sentence saying half of what the withheld answer or the question says may answer it.
    said = (draft.exclude_statement, draft.question) if draft.exclude_statement else ()
    return any(_restates(s, statement) for s in sentences(evidence.text) for statement in said)


def _restates(sentence: str, statement: str) -> bool:
    """Whether sentence says much of what statement says: half or more of its content words."""
    said = _content_words(statement)
    return bool(said) and len(said & _content_words(sentence)) >= RESTATES * len(said)


def _content_words(text: str) -> set[str]:
    return {w for w in _norm(text).split() if len(w) > 2 and w not in STOPWORDS}


def _target_evidence(retriever, target: tuple[str, str]) -> Evidence | None:
    for chunk in retriever.index.chunks:
        if (chunk.doc_id, chunk.heading) == target:
            return Evidence(chunk.doc_id, chunk.heading, chunk.text, 1.0)
    return None


def _customers(sessions) -> list[int]:
    from sqlalchemy import select

    from shopcore.store.models import Customer

    with sessions() as session:
        return list(session.scalars(select(Customer.id).order_by(Customer.id)))


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()

