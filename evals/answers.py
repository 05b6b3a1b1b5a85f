"""Answer suite: how good and how honest the desk's answers are on the dev questions.

    python -m evals run --suite answers

- key_fact_accuracy: answerable questions whose answer contains the labeled key fact;
- citation_accuracy: answerable questions whose answer cites a right document;
- refusal_accuracy: unanswerable and hand-off questions answered with the hand-off (or the
  model's own "I don't know ... a person");
- groundedness: share of the numbers and ids in all answers that the evidence states.
Also reported: how often answerable questions were refused, what the guardrails did, and
key_fact_ceiling: answerable questions whose evidence covers them (so they reach the model
rather than the hand-off) and contains the key fact, the best any model could score with
this retrieval; key_fact_first: those whose first focused sentence (or a record the question
names, shown whole) holds it, where a small model that quotes what it is shown first finds it.

`evaluate(generator, questions, ...)` is the reusable part: the fine-tuning suite calls it
with the base model and with an adapter to compare them on the same questions.
"""

from __future__ import annotations

import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tqdm import tqdm

from chatbot.answer import Answer, respond
from chatbot.facts import check
from chatbot.handoff import HANDOFF_REPLY
from chatbot.messages import say
from chatbot.prompt import build_prompt
from evals.report import table as report_table
from evals.suite import SuiteResult, dev_questions
from knowledge.focus import NAMED
from knowledge.retrieval import covers

_NUMBER_HYPHEN = re.compile(r"(\d)[-\u2010\u2011](?=[^\W\d_])")  # "1-year", "30-day"

# The model's own ways of declining, counted as refusals besides the hand-off reply.
REFUSAL_CUES = re.compile(
    r"\b(i don'?t know|i do not know|i(?:'m| am) not sure|i can'?t (?:answer|help)|"
    r"(?:connect|put) you (?:with|in touch with) (?:a|our) (?:person|human|team|agent))\b",
    re.IGNORECASE,
)
UNANSWERABLE_KINDS = ("unanswerable", "handoff")
CONCURRENCY = 8  # questions in flight at once: the generator batches them


@dataclass
class Context:
    """What answering needs besides the generator: the same parts the pipeline uses."""

    retriever: object
    sessions: object
    settings: object
    check_claims: bool = True  # False: answers as before the claim check


def answer_question(question: dict, generator, context: Context) -> dict:
    """Steps 3-5 of the pipeline for one dev question (nothing is stored); one result row."""
    from chatbot.pipeline import claim_checker, gather_evidence
    from chatbot.question import understand

    settings, text = context.settings, question["question"]
    # Exactly steps 3-5 of the pipeline, for a conversation's first message.
    asked = understand(text, [], retriever=context.retriever, generator=generator, settings=settings)
    evidence = gather_evidence(asked, question.get("customer_id"), context.retriever, context.sessions, settings)
    prompt = build_prompt(asked.asked, evidence, [], tokenizer=generator.tokenizer, shop=settings.shop_name,
                          tone=settings.shop_tone, budget=settings.prompt_token_budget)
    claims = claim_checker(asked, prompt.evidence, context.retriever, settings) if context.check_claims else None
    answer = Answer()
    for _ in respond(asked.own, evidence, prompt, generator, answer, max_new_tokens=settings.max_new_tokens,
                     retries=settings.guardrail_retries, coverage_threshold=settings.coverage_threshold,
                     claims=claims):
        pass
    facts = check(answer.text, prompt.evidence)
    key_fact = question["key_fact"]  # empty for unanswerable questions
    # The prompt shows each evidence's title and text: "whats RO-FLC-0001" is answered by a title.
    reachable = bool(key_fact) and covers(evidence, settings.coverage_threshold) and any(states(f"{e.title}\n{e.text}", key_fact)
                                                            for e in prompt.evidence)
    # What the prompt shows first: a record the question names, whole, else its first sentence.
    first = prompt.evidence[0] if reachable else None
    fact_first = first is not None and states(
        f"{first.title}\n" + (first.text if first.score >= NAMED else first.text.split("\n", 1)[0]), key_fact)
    cited = sorted({prompt.evidence[n - 1].doc_id for n in answer.cited(len(prompt.evidence))})
    return {
        "id": question["id"], "kind": question["kind"], "question": text, "answer": answer.text,
        "key_fact": question["key_fact"], "expected": question["doc_ids"], "cited": cited,
        "refused": is_refusal(answer.text), "guardrail": (answer.guardrail or {}).get("action"),
        "facts": len(facts.facts), "grounded_facts": len(facts.facts) - len(facts.unsupported),
        "tokens": answer.stats.tokens_generated, "fact_reachable": reachable,
        "fact_first": fact_first,
        "claims_removed": [c["text"] for c in (answer.guardrail or {}).get("claims_removed", [])],
        "evidence": [f"{e.title}\n{e.text}" for e in prompt.evidence],  # for --details: what the model saw
    }


PERSON_ASKED = say("person_asked", "en")


def is_refusal(text: str) -> bool:
    """The hand-off reply (or, asked for a person, that one was asked), or the model declining in its own words."""
    return HANDOFF_REPLY in text or PERSON_ASKED in text or bool(REFUSAL_CUES.search(text))


def evaluate(generator, questions: list[dict], context: Context, *, progress: str = "answers"
             ) -> tuple[dict[str, float], list[dict]]:
    """The four answer metrics (and two diagnostics) of generator on questions, and one row each."""
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        rows = list(tqdm(pool.map(lambda q: answer_question(q, generator, context), questions),
                         total=len(questions), desc=progress, unit="q"))
    return score(rows), rows


def score(rows: list[dict]) -> dict[str, float]:
    """Metrics over result rows (see the module docstring for their definitions)."""
    answerable = [r for r in rows if r["kind"] not in UNANSWERABLE_KINDS]
    unanswerable = [r for r in rows if r["kind"] in UNANSWERABLE_KINDS]
    facts = sum(r["facts"] for r in rows)
    return {
        "key_fact_accuracy": _share(answerable, lambda r: states(r["answer"], r["key_fact"])),
        "citation_accuracy": _share(answerable, lambda r: bool(set(r["cited"]) & set(r["expected"]))),
        "refusal_accuracy": _share(unanswerable, lambda r: r["refused"]),
        "groundedness": sum(r["grounded_facts"] for r in rows) / facts if facts else 1.0,
        "answerable_refused": _share(answerable, lambda r: r["refused"]),
        "guardrail_intervened": _share(answerable, lambda r: r["guardrail"] in ("regenerated", "fallback")),
        "key_fact_ceiling": _share(answerable, lambda r: r["fact_reachable"]),
        "key_fact_first": _share(answerable, lambda r: r["fact_first"]),
        # The claim check (chatbot/claims.py): answers it removed a sentence from; answers whose
        # model text stated the key fact (with the removed sentences put back), and of those the
        # ones the check took it from (false rejections).
        "claims_removed_share": _share(rows, lambda r: bool(r.get("claims_removed"))),
        "claim_false_rejections": _share(
            [r for r in answerable if states(" ".join([r["answer"], *r.get("claims_removed", [])]), r["key_fact"])],
            lambda r: not states(r["answer"], r["key_fact"])),
    }


def _share(rows: list[dict], test) -> float:
    return sum(1 for r in rows if test(r)) / len(rows) if rows else 0.0


def states(answer: str, fact: str) -> bool:
    """Whether answer states fact: case-insensitive, whitespace squashed, and a number joined
    to its unit by a hyphen read as written apart ("our 1-year warranty" states "1 year")."""
    return squash(fact) in squash(answer)


def squash(text: str) -> str:
    return _NUMBER_HYPHEN.sub(r"\1 ", re.sub(r"\s+", " ", text)).strip().lower()


def load_context(settings) -> Context:
    """The retriever and store that the settings point at."""
    from shopcore.store.db import make_engine, session_factory
    from knowledge.embed import Embedder
    from knowledge.index import Index
    from knowledge.retrieval import Retriever

    retriever = Retriever(Index.load(settings.index_dir), Embedder(settings.embedding_model))
    return Context(retriever, session_factory(make_engine(settings.database_url)), settings)


def answers_suite() -> SuiteResult:
    """Key-fact, citation and refusal accuracy and groundedness of the configured model."""
    from chatbot.llm.generation import build_generator
    from shopcore.settings import get_settings

    settings = get_settings()
    context, questions = load_context(settings), dev_questions()
    generator = build_generator(settings)
    served = (settings.model, generator.adapter_version or "none")
    started = time.perf_counter()
    try:
        metrics, rows = evaluate(generator, questions, context)
    finally:
        getattr(generator, "close", lambda: None)()
    runs = {served: (metrics, rows, time.perf_counter() - started)}
    for model, adapter in compared_models():
        if (model, adapter) in runs:
            continue
        key, result = _run(settings, model, adapter, questions, context)
        if key is not None:  # None: that model is not on this machine (the log says so)
            runs[key] = result
    table = by_kind(rows)
    notes = [f"Model `{generator.model_id}`, adapter `{generator.adapter_version or 'none'}`, "
             f"{len(rows)} questions, greedy, at most {settings.max_new_tokens} new tokens.", "",
             "Refused = the hand-off reply or the model's own refusal; guardrail = what the "
             "answer guardrails did (handoff, regenerated, fallback). Groundedness is measured on "
             "the answers shoppers see, after the fact guard; `guardrail_intervened` is the share "
             "of answerable questions where the model itself stated an unsupported fact.", ""]
    if len(runs) > 1:
        notes += ["## Models compared on the same questions, in this run", "",
                  f"`{COMPARE_VARIABLE}` lists them (`model` or `model@adapter`, `@none` for the base model); "
                  "seconds are the whole run's wall time on this machine, 8 questions in flight.", "",
                  report_table([_comparison_row(key, *value) for key, value in runs.items()]), ""]
    notes += _examples(rows)
    details = [{"model": m, "adapter": a, **r} for (m, a), (_, run_rows, _) in runs.items() for r in run_rows]
    return SuiteResult("answers", metrics, table, notes, {"by-kind": plot(table)}, details=details)


COMPARE_VARIABLE = "EVALS_ANSWER_MODELS"


def compared_models() -> list[tuple[str, str]]:
    """(model, adapter) pairs from EVALS_ANSWER_MODELS, e.g. "smollm2-135m@none,qwen2.5-0.5b";
    an entry without @ gets the adapter the desk would serve for that model."""
    import os

    pairs = []
    for entry in filter(None, (e.strip() for e in os.environ.get(COMPARE_VARIABLE, "").split(","))):
        model, _, adapter = entry.partition("@")
        pairs.append((model, adapter))
    return pairs


def _run(settings, model: str, adapter: str, questions, context):
    """One more model (and adapter) on the same questions; ((model, adapter), result)."""
    from chatbot.llm.generation import build_generator
    from chatbot.llm.loading import ModelUnavailable

    try:
        generator = build_generator(settings.model_copy(update={"model": model, "adapter": adapter}))
    except ModelUnavailable as exc:  # not pulled: say so in the report, keep the suite going
        print(f"answers: skipping {model}: {exc}", file=sys.stderr)
        return None, None
    started = time.perf_counter()
    try:
        metrics, rows = evaluate(generator, questions, context, progress=f"{model}@{generator.adapter_version or 'none'}")
    finally:
        getattr(generator, "close", lambda: None)()
    return (model, generator.adapter_version or "none"), (metrics, rows, time.perf_counter() - started)


def _comparison_row(key: tuple[str, str], metrics: dict, rows: list[dict], seconds: float) -> dict:
    model, adapter = key
    return {"model": model, "adapter": adapter,
            **{m: round(metrics[m], 3) for m in ("key_fact_accuracy", "citation_accuracy", "refusal_accuracy",
                                                 "groundedness", "answerable_refused")},
            "seconds": round(seconds)}


def by_kind(rows: list[dict]) -> list[dict]:
    """One table row per question kind, and one for all."""
    kinds = sorted({r["kind"] for r in rows}) + ["all"]
    table = []
    for kind in kinds:
        group = [r for r in rows if kind in ("all", r["kind"])]
        actions = [r["guardrail"] for r in group]
        table.append({
            "kind": kind, "questions": len(group),
            "key_fact": _share(group, lambda r: r["kind"] not in UNANSWERABLE_KINDS
                               and states(r["answer"], r["key_fact"])),
            "cited_right": _share(group, lambda r: bool(set(r["cited"]) & set(r["expected"]))),
            "refused": _share(group, lambda r: r["refused"]),
            "handoff": actions.count("handoff") / len(group),
            "regenerated": actions.count("regenerated") / len(group),
            "fallback": actions.count("fallback") / len(group),
            "tokens_p50": sorted(r["tokens"] for r in group)[len(group) // 2],
        })
    return table


def plot(table: list[dict]):
    """Bars per question kind: key fact found, right citation, refused."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 3.6))
    kinds = [row["kind"] for row in table]
    for offset, metric in zip((-0.27, 0, 0.27), ("key_fact", "cited_right", "refused")):
        axes.bar([i + offset for i in range(len(kinds))], [row[metric] for row in table], 0.27,
                 label=metric)
    axes.set_xticks(range(len(kinds)), kinds)
    axes.set_ylim(0, 1)
    axes.set_ylabel("share of questions")
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    return figure


def _examples(rows: list[dict], per_kind: int = 1) -> list[str]:
    lines, seen = ["## Examples", ""], {}
    for row in rows:
        if seen.get(row["kind"], 0) < per_kind:
            seen[row["kind"]] = seen.get(row["kind"], 0) + 1
            answer = row["answer"].replace("\n", " ")
            lines.append(f"- **{row['kind']}** {row['question']} → {answer[:300]} "
                         f"(guardrail: {row['guardrail'] or 'none'})")
    return lines
