"""Second-shop suite: does the adapter trained on the demo shop help on a shop it never saw?

    python -m evals run --suite second_shop

Kettle & Leaf (evals/data/second_shop/: an online tea shop, its own policies, FAQ, brewing
guide and product feed, and 162 labelled questions written for this project) is indexed
into CHATBOT_HOME/evals/second-shop-index (incremental, no catalog from the demo store), and
the assistant speaks for it (its name and tone from its profile, shop.yaml), handing off below
the threshold calibrated on its own documents. The configured base model
alone and with the adapter the desk serves (trained on Ridgeline's documents only) answer
the same questions through steps 3-5 of the pipeline, as in the answer suite.

The adapter should carry the skill (quote the evidence, cite it, hand off when it is
silent) and none of the demo shop's facts; the fact guard stops any Ridgeline number the
evidence does not state, and `guardrail_intervened` counts how often it had to.
"""

from __future__ import annotations

from pathlib import Path

from evals.answers import Context, evaluate
from evals.suite import DATA_DIR, SuiteResult, load_jsonl

SHOP_DIR = DATA_DIR / "second_shop"
METRICS = ("key_fact_accuracy", "citation_accuracy", "refusal_accuracy", "groundedness", "answerable_refused",
           "guardrail_intervened", "key_fact_ceiling")


def second_shop_index(settings, embedder) -> Path:
    """Kettle & Leaf's index, in CHATBOT_HOME/evals/second-shop-index: built from its documents
    only (no catalog from the store), incrementally, so suites after the first reuse it."""
    from knowledge.build import build_index

    folder = settings.home / "evals" / "second-shop-index"
    build_index([SHOP_DIR / "docs"], folder, embedder)
    return folder


def second_shop_suite() -> SuiteResult:
    """Base model vs the served (demo-trained) adapter on another shop's documents and questions."""
    from chatbot.llm.adapters import chosen_adapter
    from chatbot.llm.generation import HFGenerator
    from chatbot.llm.loading import load_model
    from knowledge.calibration import calibrate
    from knowledge.embed import Embedder
    from knowledge.index import Index
    from knowledge.retrieval import Retriever
    from shopcore.profile import load_profile
    from shopcore.settings import get_settings
    from shopcore.store.db import make_engine, session_factory

    profile = load_profile(SHOP_DIR / "shop.yaml")
    settings = get_settings()
    embedder = Embedder(settings.embedding_model)
    settings = settings.model_copy(update={"shop_name": profile.name, "shop_tone": profile.tone,
                                           "index_dir": second_shop_index(settings, embedder)})
    retriever = Retriever(Index.load(settings.index_dir), embedder)
    # The hand-off threshold its own setup would calibrate (knowledge/calibration.py), not the demo's.
    settings = settings.model_copy(update={"coverage_threshold": calibrate(retriever, settings.top_k).threshold})
    context = Context(retriever, session_factory(make_engine(settings.database_url)), settings)
    questions = load_jsonl(SHOP_DIR / "questions.jsonl")

    choice = chosen_adapter(settings)
    results = {}
    for label, adapter in (("base", None), (choice.version or "base", choice.path)):
        if label in results:
            continue
        generator = HFGenerator(load_model(settings, adapter=adapter), None if adapter is None else label,
                                max_batch=settings.max_batch, max_queue=max(settings.max_queue, len(questions)),
                                repetition_penalty=settings.repetition_penalty)
        try:
            results[label] = evaluate(generator, questions, context, progress=f"{profile.name}: {label}")
        finally:
            generator.close()

    rows, metrics = [], {}
    for label, (scores, _) in results.items():
        rows.append({"model": f"{settings.model} + {label}" if label != "base" else settings.model,
                     **{m: round(scores[m], 3) for m in METRICS}})
        prefix = "base" if label == "base" else "adapter"
        metrics |= {f"{prefix}_{m}": scores[m] for m in METRICS}
    if "adapter_key_fact_accuracy" in metrics:
        metrics["key_fact_gain"] = metrics["adapter_key_fact_accuracy"] - metrics["base_key_fact_accuracy"]
    kinds = {}
    for q in questions:
        kinds[q["kind"]] = kinds.get(q["kind"], 0) + 1
    notes = [f"{profile.name}: {len(questions)} questions ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}) "
             f"on {len(list((SHOP_DIR / 'docs').rglob('*.*')))} document files; model `{settings.model}`, "
             f"adapter `{choice.version or 'none'}` (trained on the demo shop only). Greedy, at most "
             f"{settings.max_new_tokens} new tokens, same retrieval, prompt and guardrails for both; hand-off "
             f"threshold {settings.coverage_threshold:.3f}, calibrated on the shop's own documents as its setup would.", "",
             "`key_fact_ceiling`: answerable questions whose evidence covers them and holds the key fact "
             "(the most any model could get right with this retrieval).", ""]
    notes += _misses(results)
    details = [{"model": label, **r} for label, (_, answers) in results.items() for r in answers]
    return SuiteResult("second_shop", metrics, rows, notes, {}, details=details)


def _misses(results: dict, limit: int = 8) -> list[str]:
    """A few answerable questions the served model got wrong, to read."""
    from evals.answers import _contains

    label = [k for k in results if k != "base"][-1:] or ["base"]
    lines = ["## Some misses of the served model", ""]
    for row in results[label[0]][1]:
        if row["key_fact"] and not _contains(row["answer"], row["key_fact"]):
            lines.append(f"- {row['question']} (wanted {row['key_fact']!r}) → {row['answer'][:200]!r}")
            if len(lines) - 2 >= limit:
                break
    return lines
