"""Fine-tuning suite: the base model against the served adapter on the held-out dev
questions, the ones whose sections the adapter never saw in training.

    python -m evals run --suite finetune

Both models answer through the same steps 3-5 of the pipeline (retrieval, prompt,
guardrails) as in the answer suite; the adapter is the one the service would serve
(CHATBOT_ADAPTER, the registry's ACTIVE, or the newest good one). The adapter's held-out
questions are read from its metadata, so the comparison always uses its own split.
"""

from __future__ import annotations

from evals.answers import evaluate, load_context
from evals.suite import SuiteResult, dev_questions

METRICS = ("key_fact_accuracy", "citation_accuracy", "refusal_accuracy", "groundedness")


class NoAdapter(Exception):
    """There is no adapter to compare with the base model."""


def finetune_suite() -> SuiteResult:
    """Base model vs adapter on the held-out questions: key facts, citations, refusals, grounding."""
    from chatbot.llm.adapters import chosen_adapter
    from chatbot.llm.generation import HFGenerator
    from chatbot.llm.loading import load_model
    from shopcore.settings import get_settings
    from chatbot.llm import registry

    settings = get_settings()
    choice = chosen_adapter(settings)
    if choice.path is None:
        raise NoAdapter("no adapter to compare: run `python -m finetune data` and `python -m finetune train` "
                        "(or set CHATBOT_ADAPTER)")
    metadata = registry.read(choice.path)
    held_out = set(metadata.get("held_out_questions", []))
    questions = [q for q in dev_questions() if q["id"] in held_out]
    if not questions:
        raise NoAdapter(f"adapter {choice.version} records no held-out dev questions")
    context = load_context(settings)

    results = {}
    for label, adapter in (("base", None), (choice.version, choice.path)):
        generator = HFGenerator(load_model(settings, adapter=adapter), None if adapter is None else label,
                                max_batch=settings.max_batch, max_queue=max(settings.max_queue, len(questions)),
                                repetition_penalty=settings.repetition_penalty)
        try:
            results[label] = evaluate(generator, questions, context, progress=label)
        finally:
            generator.close()

    rows, metrics = [], {}
    for label, (scores, answers) in results.items():
        words = [len(r["answer"].split()) for r in answers]
        row = {"model": label, **{m: round(scores[m], 3) for m in METRICS},
               "answer_words": round(sum(words) / len(words), 1),
               "answerable_refused": round(scores["answerable_refused"], 3)}
        rows.append(row)
        prefix = "base" if label == "base" else "adapter"
        metrics |= {f"{prefix}_{m}": scores[m] for m in METRICS}
        metrics[f"{prefix}_answer_words"] = row["answer_words"]
    metrics["key_fact_gain"] = metrics["adapter_key_fact_accuracy"] - metrics["base_key_fact_accuracy"]
    metrics["key_fact_ceiling"] = results["base"][0]["key_fact_ceiling"]  # retrieval's, same for both
    metrics["key_fact_first"] = results["base"][0]["key_fact_first"]  # the focus step's, same for both
    good = no_worse(metrics) and metadata.get("good", False)
    registry.update_metrics(choice.path.parent, choice.path.name,
                            {f"heldout_{k}": v for k, v in metrics.items()}, good=good)

    kinds = sorted({q["kind"] for q in questions})
    notes = [f"Adapter `{choice.version}` on base `{metadata.get('base_model')}`, {len(questions)} held-out "
             f"dev questions ({', '.join(kinds)}), none of whose sections, customers or questions were in "
             f"its training set. Greedy, at most {settings.max_new_tokens} new tokens, same retrieval, "
             "prompt and guardrails for both models.", "",
             f"Ceiling: {metrics['key_fact_ceiling']:.3f} of the answerable held-out questions have evidence "
             "that covers them and contains the key fact; no model can score more key facts with this "
             "retrieval (the rest get the hand-off, or evidence without the fact). "
             f"{metrics['key_fact_first']:.3f} have it in the first focused sentence (or in a record the "
             "question names), what a model that quotes the first thing it is shown would get right.", "",
             f"Training: {metadata['metrics'].get('train_seconds')} s, peak memory "
             f"{metadata['metrics'].get('peak_memory_mb')} MB on {metadata['metrics'].get('device')}, "
             f"held-out loss {metadata['metrics'].get('base_eval_loss'):.3f} -> "
             f"{metadata['metrics'].get('eval_loss'):.3f}.", ""]
    notes += [f"Verdict recorded in the registry: {'good' if good else 'not good'} (an adapter that answers "
              "fewer held-out questions right or refuses fewer unanswerable ones than the base model is "
              "not served unless named).", ""]
    notes += _changed(results, choice.version)
    details = [{"model": label, **r} for label, (_, answers) in results.items() for r in answers]
    return SuiteResult("finetune", metrics, rows, notes, {"comparison": plot(rows)}, details=details)


def no_worse(metrics: dict) -> bool:
    """Whether the adapter is at least as right and as honest as the base model."""
    return (metrics["adapter_key_fact_accuracy"] >= metrics["base_key_fact_accuracy"]
            and metrics["adapter_refusal_accuracy"] >= metrics["base_refusal_accuracy"])


def plot(rows: list[dict]):
    """Grouped bars: each metric for the base model and the adapter."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 3.6))
    width = 0.8 / len(rows)
    for i, row in enumerate(rows):
        axes.bar([m + (i - (len(rows) - 1) / 2) * width for m in range(len(METRICS))],
                 [row[metric] for metric in METRICS], width, label=row["model"])
    axes.set_xticks(range(len(METRICS)), [m.replace("_", " ") for m in METRICS])
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("share")
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    return figure


def _changed(results: dict, adapter: str, limit: int = 6) -> list[str]:
    """Questions where the adapter found the key fact and the base model did not."""
    from evals.answers import states

    base = {r["id"]: r for r in results["base"][1]}
    lines = ["## Where the adapter got it right and the base model did not", ""]
    for row in results[adapter][1]:
        before = base[row["id"]]
        if row["key_fact"] and states(row["answer"], row["key_fact"]) and not states(before["answer"], row["key_fact"]):
            lines.append(f"- {row['question']} → base: {before['answer'][:160]!r}; adapter: {row['answer'][:160]!r}")
            if len(lines) - 2 >= limit:
                break
    return lines
