"""Fine-tuning: the SFT set (format, held-out split, determinism, corrections), LoRA training
(tiny model; one real SmolLM2 run that learns an agent's correction), the adapter registry,
a live adapter switch in a serving generator, and merged export."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from sqlalchemy import select

from chatbot.handoff import HANDOFF_REPLY
from shopcore.settings import REPO_ROOT
from evals.suite import dev_questions
from chatbot.llm import registry
from finetune.data import DataConfig, build_dataset, load_examples
from finetune.train import TrainConfig, answer_batch, tokenize, train
from tests.conftest import make_settings

CORRECTED = "Yes, we ship to PO boxes in Alaska with USPS Priority Mail; choose it at checkout."
QUESTION = "can you send my parcel to a PO box in Alaska?"


@pytest.fixture(scope="module")
def tokenizer(smollm2_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smollm2_dir)


@pytest.fixture(scope="module")
def demo_reader(demo_db):
    from shopcore.store.db import make_engine, session_factory

    engine = make_engine(demo_db)
    yield session_factory(engine)
    engine.dispose()


def build(out: Path, sessions, retriever, tokenizer, size: int = 60, seed: int = 13) -> dict:
    settings = make_settings(out.parent / "home")
    return build_dataset(DataConfig(seed=seed, size=size, held_out_size=8), settings=settings,
                         retriever=retriever, sessions=sessions, tokenizer=tokenizer,
                         questions=dev_questions(), out_dir=out)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, demo_reader, retriever, tokenizer) -> Path:
    out = tmp_path_factory.mktemp("sft") / "data"
    build(out, demo_reader, retriever, tokenizer)
    return out


def _evidence_titles(system: str) -> list[str]:
    return re.findall(r"^\[\d+\] (.+)\n<<<$", system, re.MULTILINE)


def test_the_set_is_in_the_pipeline_format_with_a_card(data_dir):
    card = json.loads((data_dir / "card.json").read_text())
    train_set = load_examples(data_dir / "train.jsonl")
    assert card["train_total"] == len(train_set) == sum(card["train"].values())
    assert {"document", "product", "order", "refusal", "dev"} <= set(card["train"])
    for example in train_set:
        messages = example["messages"]
        assert messages[0]["role"] == "system" and "Evidence:" in messages[0]["content"]
        assert messages[-1] == {"role": "user", "content": example["question"]}
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", example["answer"])}
        assert cited <= set(range(1, len(_evidence_titles(messages[0]["content"])) + 1))
        if example["kind"] == "refusal":
            assert example["answer"] == HANDOFF_REPLY
        elif example["kind"] != "correction":
            assert cited, example  # a grounded answer cites its evidence


def test_nothing_held_out_reaches_the_training_file(data_dir, demo_reader):
    from shopcore.store.models import Order

    split = json.loads((data_dir / "split.json").read_text())
    held_ids = set(split["held_out_questions"])
    held_questions = {q["question"].lower() for q in dev_questions() if q["id"] in held_ids}
    held_headings = {key.split(" :: ", 1)[1] for key in split["held_out_sections"]}
    with demo_reader() as session:
        held_orders = set(session.scalars(select(Order.number).where(
            Order.customer_id.in_(split["held_out_customers"]))))
    assert held_ids and held_headings and held_orders
    for example in load_examples(data_dir / "train.jsonl"):
        assert example["question"].lower() not in held_questions
        titles = _evidence_titles(example["messages"][0]["content"])
        assert not set(titles) & held_headings, (example["question"], titles)
        assert not any(f"order {number}" in title.lower() for title in titles for number in held_orders)


def test_the_same_seed_builds_the_same_set(data_dir, tmp_path, demo_reader, retriever, tokenizer):
    card = build(tmp_path / "again", demo_reader, retriever, tokenizer)
    assert (tmp_path / "again" / "train.jsonl").read_bytes() == (data_dir / "train.jsonl").read_bytes()
    assert card["data_hash"] == json.loads((data_dir / "card.json").read_text())["data_hash"]


def _cited_passage(example: dict) -> tuple[list[str], str]:
    """The lines of the evidence an answer cites, as its prompt shows them, and the answer's words."""
    number = int(re.search(r"\[(\d+)\]\s*$", example["answer"]).group(1))
    passages = re.findall(r"^\[\d+\] [^\n]+\n<<<\n(.*?)\n>>>$", example["messages"][0]["content"],
                          re.MULTILINE | re.DOTALL)
    return passages[number - 1].splitlines(), example["answer"].rsplit("[", 1)[0]


def test_a_policy_answer_quotes_the_fact_and_the_passage_s_next_best_sentence(data_dir):
    """From a policy or FAQ passage of several sentences, an answer says two of them word for
    word (the one that answers, then the passage's best other one); a product answer is one line.
    Counted by the passage's sentences and list items as the focus step cuts them: a line may
    hold several sentences, and a list item is quoted without its "- "."""
    from knowledge.focus import sentences

    quoting = {"document": [], "product": []}
    for example in load_examples(data_dir / "train.jsonl"):
        if example["kind"] in quoting:
            lines, body = _cited_passage(example)
            units = sentences("\n".join(lines))
            if len(units) > 1:
                quoting[example["kind"]].append(sum(1 for unit in units if unit in body))
    documents, products = quoting["document"], quoting["product"]
    assert documents and products
    assert documents.count(2) >= 0.8 * len(documents), documents
    assert max(documents) == 2 and max(products) <= 1


def test_a_where_is_my_order_answer_adds_tracking_while_on_its_way_and_the_note():
    from finetune.draft import CITE
    from finetune.orders import stating, where_it_is

    on_its_way = {"Order": "A1042", "Status": "shipped", "Carrier": "UPS", "Tracking number": "1Z1PBR6Y0364025779",
                  "Estimated delivery": "2026-11-06", "Total": "$149.00"}
    where = (f"Your order A1042 is shipped with UPS, tracking number 1Z1PBR6Y0364025779, "
             f"estimated delivery 2026-11-06. {CITE}")
    assert where_it_is(on_its_way) == where
    assert where_it_is(on_its_way, latest=True).startswith("Your most recent order, A1042, is shipped with UPS,")
    returned = on_its_way | {"Order": "A1259", "Status": "returned", "Delivered": "2026-10-01",
                             "Note": "Return received on 2026-10-28; refund pending inspection."}
    assert where_it_is(returned) == (
        f"Your order A1259 is returned — return received on 2026-10-28; refund pending inspection. {CITE}")
    # Never the bare status word: the adapter would learn to stop after it.
    assert where_it_is(on_its_way | {"Status": "delivered", "Delivered": "2026-11-05"}) == (
        f"Your order A1042 was delivered on 2026-11-05 with UPS, tracking number 1Z1PBR6Y0364025779. {CITE}")
    assert where_it_is(returned | {"Status": "delivered"}, latest=True) == (
        f"Your most recent order, A1259, was delivered on 2026-10-01 with UPS, tracking number "
        f"1Z1PBR6Y0364025779 — return received on 2026-10-28; refund pending inspection. {CITE}")
    # Any question about the order is answered in the same voice: where it is, when that
    # states the fact asked for, else the answer about the field that does.
    assert stating(on_its_way, "1z1pbr6y0364025779") == stating(on_its_way, "UPS") == where
    assert stating(returned, "ups") == f"Your order A1259 ships with UPS. {CITE}"
    assert stating(on_its_way, "$149.00") == f"The total for order A1042 was $149.00. {CITE}"
    assert stating(on_its_way, "A1999") is None


def test_an_answer_from_a_product_record_names_the_product():
    """A field line is answered in the product drafts' voice, the dev set's answers too, never
    as the bare line ("Price: $99.00"), which names nothing."""
    from finetune.questions import record_line_answer

    assert record_line_answer("Firefly Stove Kit", "Price: $99.00") == "The Firefly Stove Kit costs $99.00."
    assert record_line_answer("Loft Insulated Air Pad", "R-value: 5.4") == "The Loft Insulated Air Pad has r-value: 5.4."
    assert record_line_answer("Firefly Stove Kit", "Everything nests inside the pot.") is None


def test_every_order_is_asked_where_it_is_and_about_one_other_field(demo_reader):
    from shopcore.store.models import Order
    from finetune.orders import order_drafts

    with demo_reader() as session:
        orders = session.scalars(select(Order).order_by(Order.id).limit(12)).all()
        customers = sorted({o.customer_id for o in orders})
    drafts = order_drafts(demo_reader, customers, random.Random(0))
    by_order: dict[str, list[str]] = {}
    for draft in drafts:
        by_order.setdefault(draft.origin, []).append(draft.answer)
    assert len(by_order) >= len(orders)
    for origin, answers in by_order.items():
        where = re.compile(rf"Your order {origin.rsplit('/', 1)[1]} (is|was) ")
        assert any(where.match(a) for a in answers), (origin, answers)
        assert any(not where.match(a) and not a.startswith("Your most recent") for a in answers), (origin, answers)


def test_a_refusal_shows_no_evidence_that_restates_the_withheld_answer():
    """A "we don't know" example built by withholding an answer's section must not show the
    same answer elsewhere (a product's care line repeating the care guide): that would teach
    refusing next to the answer."""
    from shopcore.schemas import Evidence
    from finetune.data import _withheld
    from finetune.draft import CITE, Draft
    from finetune.refusals import withheld_drafts

    answer = Draft("document", "how do I wash fleece", f"Machine wash cold with like colors and tumble dry low. {CITE}",
                   ("guides/care", "Product Care Guide > Fleece"))
    [refusal] = withheld_drafts([answer], random.Random(0), count=1)
    assert refusal.answer == HANDOFF_REPLY and refusal.target is None
    care_line = Evidence("products/fleece", "Basecamp Fleece Jacket", "Care: Machine wash cold, tumble dry low.", 0.6)
    unrelated = Evidence("products/fleece", "Basecamp Fleece Jacket", "Weight: 235 g\nPockets: 2 zip hand pockets", 0.5)
    section = Evidence("guides/care", "Product Care Guide > Fleece", "Wash inside out.", 0.9)
    assert _withheld(care_line, refusal) and _withheld(section, refusal)
    assert not _withheld(unrelated, refusal)


def _correct_a_bot_answer(sessions) -> None:
    """A shopper asks, the bot answers badly, an agent corrects it in the console."""
    from chatbot.console.actions import correct_answer
    from chatbot.conversations import record_answer, start_turn

    turn = start_turn(sessions, QUESTION, None, None, "web", 6)
    answer_id = record_answer(sessions, turn.conversation_id, turn.message_id, "We do not ship anywhere.")
    correct_answer(sessions, turn.conversation_id, answer_id, "sam", CORRECTED)


def test_an_agent_correction_reaches_the_next_data_set(demo_sessions, retriever, tokenizer, tmp_path):
    _correct_a_bot_answer(demo_sessions)
    build(tmp_path / "data", demo_sessions, retriever, tokenizer, size=20)
    corrections = [e for e in load_examples(tmp_path / "data" / "train.jsonl") if e["kind"] == "correction"]
    assert [(e["question"], e["answer"]) for e in corrections] == [(QUESTION, CORRECTED)]
    assert "Evidence:" in corrections[0]["messages"][0]["content"]  # with the evidence it would get


def test_a_tiny_run_lands_in_the_registry_and_resumes(tiny_model_dir, data_dir, tmp_path):
    settings = make_settings(tmp_path, device="cpu")
    config = TrainConfig(model=str(tiny_model_dir), max_steps=2, accumulate=2, layers=1)
    metadata = train(config, settings, data_dir, name="tiny")
    folder = settings.adapter_dir / "tiny"
    assert (folder / "adapter_model.safetensors").exists()
    saved = registry.read(folder)
    assert saved == json.loads(json.dumps(metadata, default=str))
    assert saved["base_model"] == str(tiny_model_dir) and len(saved["base_hash"]) == 64
    assert saved["data_hash"] == json.loads((data_dir / "card.json").read_text())["data_hash"]
    assert saved["held_out_questions"] and saved["data_card"]["train_total"] > 0
    assert saved["metrics"]["steps"] == 2 and saved["metrics"]["peak_memory_mb"] > 0
    assert saved["hyperparameters"]["rank"] == 16 and saved["hyperparameters"]["layers"] == 1

    again = train(TrainConfig(model=str(tiny_model_dir), max_steps=3, accumulate=2, layers=1),
                  settings, data_dir, name="tiny")
    assert again["metrics"]["resumed"] and again["metrics"]["steps"] == 3


def test_the_loss_on_answer_logits_only_is_the_loss_on_all_of_them(tiny_model_dir, data_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    example = tokenize(load_examples(data_dir / "train.jsonl")[0], tokenizer, 4096)
    batch = answer_batch([example])
    answer_tokens = sum(1 for label in example["labels"] if label != -100)
    assert batch["logits_to_keep"] == answer_tokens + 1 and batch["labels"].shape[1] == answer_tokens + 1
    with torch.no_grad():
        full = model(input_ids=torch.tensor([example["input_ids"]]), labels=torch.tensor([example["labels"]]))
        trimmed = model(**batch)
    assert trimmed.logits.shape[1] == answer_tokens + 1
    assert torch.allclose(trimmed.loss, full.loss, atol=1e-6)


def _random_adapter(settings, model_dir, name: str, good: bool, seed: int) -> Path:
    """A real LoRA adapter with random (non-zero) weights, saved through the registry."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir),
                           LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    return registry.save(settings.adapter_dir, name, model, {
        "name": name, "base_model": settings.model, "good": good, "created": f"2026-01-0{seed}T00:00:00",
        "metrics": {}})


def test_the_registry_picks_the_newest_good_adapter_unless_told(tiny_model_dir, tmp_path):
    settings = make_settings(tmp_path, model=str(tiny_model_dir), device="cpu", quantize="none")
    assert registry.choose("", settings.adapter_dir, settings.model).path is None  # empty: base model
    _random_adapter(settings, tiny_model_dir, "old-good", True, 1)
    _random_adapter(settings, tiny_model_dir, "new-bad", False, 2)
    assert registry.choose("", settings.adapter_dir, settings.model).version == "old-good"
    # The finetune suite found it answers worse than the base model: no longer served unasked.
    registry.update_metrics(settings.adapter_dir, "old-good", {"heldout_key_fact_gain": -0.1}, good=False)
    assert registry.choose("", settings.adapter_dir, settings.model).path is None
    assert registry.read(settings.adapter_dir / "old-good")["metrics"]["heldout_key_fact_gain"] == -0.1
    registry.update_metrics(settings.adapter_dir, "old-good", {}, good=True)
    registry.set_active(settings.adapter_dir, "new-bad")
    assert registry.choose("", settings.adapter_dir, settings.model).version == "new-bad"
    assert registry.choose("none", settings.adapter_dir, settings.model).path is None
    assert registry.choose("old-good", settings.adapter_dir, settings.model).version == "old-good"
    with pytest.raises(registry.AdapterError, match="not found"):
        registry.choose("missing", settings.adapter_dir, settings.model)
    with pytest.raises(registry.AdapterError, match="trained on"):
        registry.choose("old-good", settings.adapter_dir, "another/model")
    with pytest.raises(registry.AdapterError, match="no adapter named"):
        registry.set_active(settings.adapter_dir, "missing")


def test_shipped_adapters_are_installed_once_for_their_base_model_only(tiny_model_dir, tmp_path):
    shipping = make_settings(tmp_path / "shipping", model=str(tiny_model_dir))
    _random_adapter(shipping, tiny_model_dir, "demo-starter", True, 1)
    shipped = shipping.adapter_dir
    settings = make_settings(tmp_path / "shop", model=str(tiny_model_dir))
    assert registry.install_shipped(shipped, settings.adapter_dir, "another/model") == []
    assert registry.install_shipped(shipped, settings.adapter_dir, settings.model) == ["demo-starter"]
    assert registry.choose("", settings.adapter_dir, settings.model).version == "demo-starter"
    # A second setup leaves the registry alone, and a newer adapter the shop trains wins.
    assert registry.install_shipped(shipped, settings.adapter_dir, settings.model) == []
    _random_adapter(settings, tiny_model_dir, "shop-own", True, 2)
    assert registry.choose("", settings.adapter_dir, settings.model).version == "shop-own"
    assert registry.install_shipped(None, settings.adapter_dir, settings.model) == []


def test_an_adapter_must_be_no_worse_than_the_base_model_to_be_good():
    from evals.finetune import no_worse

    base = {"base_key_fact_accuracy": 0.2, "base_refusal_accuracy": 0.9}
    assert no_worse(base | {"adapter_key_fact_accuracy": 0.5, "adapter_refusal_accuracy": 0.9})
    assert not no_worse(base | {"adapter_key_fact_accuracy": 0.1, "adapter_refusal_accuracy": 1.0})
    assert not no_worse(base | {"adapter_key_fact_accuracy": 0.5, "adapter_refusal_accuracy": 0.8})


def _greedy(generator, text: str) -> str:
    return "".join(generator.stream([{"role": "user", "content": text}], max_new_tokens=8))


def test_a_serving_generator_switches_adapters_without_a_restart(tiny_model_dir, tmp_path):
    from chatbot.llm.adapters import AdapterWatch
    from chatbot.llm.generation import build_generator

    settings = make_settings(tmp_path, model=str(tiny_model_dir), device="cpu", quantize="none")
    generator = build_generator(settings)
    try:
        watch = AdapterWatch(generator, settings)
        base_answer = _greedy(generator, "hello")
        assert generator.adapter_version is None and not watch.check()

        _random_adapter(settings, tiny_model_dir, "v1", True, 1)  # a newer good adapter appears
        assert watch.check() and generator.adapter_version == "v1"
        assert _greedy(generator, "hello") != base_answer

        registry.set_active(settings.adapter_dir, "none")  # `python -m finetune use none`
        assert watch.check() and generator.adapter_version is None
        assert _greedy(generator, "hello") == base_answer
    finally:
        generator.close()


def test_a_merged_export_is_the_adapted_model(tiny_model_dir, tmp_path):
    from chatbot.llm.loading import load_model

    settings = make_settings(tmp_path, model=str(tiny_model_dir), device="cpu", quantize="none")
    path = _random_adapter(settings, tiny_model_dir, "v1", True, 1)
    registry.merge(settings, "v1", tmp_path / "merged")
    exported = load_model(make_settings(tmp_path, model=str(tmp_path / "merged"), device="cpu", quantize="none"))
    adapted = load_model(settings, adapter=path)
    for (name, a), (_, b) in zip(exported.model.state_dict().items(), adapted.model.state_dict().items()):
        assert torch.allclose(a, b), name


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO_ROOT, env={**os.environ, **env}, text=True,
                          capture_output=True, timeout=300)


def test_cli_lists_and_refuses_unknown_adapters(tmp_path):
    done = run_cli(["finetune", "list"], {"CHATBOT_HOME": str(tmp_path)})
    assert done.returncode == 0 and "no adapters yet" in done.stdout
    done = run_cli(["finetune", "use", "missing"], {"CHATBOT_HOME": str(tmp_path)})
    assert done.returncode == 1 and "no adapter named 'missing'" in done.stderr
    done = run_cli(["finetune", "train", "--data", str(tmp_path / "nowhere")], {"CHATBOT_HOME": str(tmp_path)})
    assert done.returncode == 1 and "finetune data" in done.stderr


@pytest.mark.slow
def test_a_corrected_answer_is_learned_after_retraining_on_smollm2(smollm2_dir, demo_sessions, retriever,
                                                                   tokenizer, tmp_path):
    """The feedback loop on the real model: an agent's correction goes into the set, a short
    LoRA run on it, and the served model then answers that question the corrected way."""
    from chatbot.llm.adapters import chosen_adapter
    from chatbot.llm.generation import HFGenerator
    from chatbot.llm.loading import load_model

    _correct_a_bot_answer(demo_sessions)
    settings = make_settings(tmp_path, device="cpu", top_k=2, quantize="none")
    build_dataset(DataConfig(size=0, held_out_size=2), settings=settings, retriever=retriever,
                  sessions=demo_sessions, tokenizer=tokenizer, questions=dev_questions(),
                  out_dir=tmp_path / "data")
    examples = load_examples(tmp_path / "data" / "train.jsonl")
    correction = [e for e in examples if e["kind"] == "correction"]
    assert correction  # size=0: the corrections only
    tiny_set = json.dumps(correction[0]) + "\n"
    (tmp_path / "data" / "train.jsonl").write_text(tiny_set)
    (tmp_path / "data" / "heldout.jsonl").write_text(tiny_set)  # the loss that picks the checkpoint

    train(TrainConfig(model=settings.model, max_steps=12, accumulate=1, lr=2e-3, layers=8), settings,
          tmp_path / "data", name="corrected")
    generator = HFGenerator(load_model(settings, adapter=chosen_adapter(settings).path), "corrected")
    try:
        answer = "".join(generator.stream(correction[0]["messages"], max_new_tokens=40))
    finally:
        generator.close()
    assert "PO boxes in Alaska" in answer, answer
