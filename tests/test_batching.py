"""The dynamic-batching worker on a real (tiny, random) Llama: answers decoded together are
token for token what each would be alone, nobody is lost when it is full, and cancelling,
failing and swapping models behave."""

import dataclasses
import threading
import time

import pytest
import torch

from chatbot.errors import Busy
from chatbot.llm.batching import END
from chatbot.llm.generation import GenerationStats, HFGenerator

QUESTIONS = ["Hello!", "Where is my order?", "Can I return worn boots after a long hike?",
             "Tents", "Do you ship to Canada and how much does it cost?", "Thanks"]


def messages(question):
    return [{"role": "system", "content": "You are a shop assistant."},
            {"role": "user", "content": question}]


@pytest.fixture
def generator(tiny_model):
    generator = HFGenerator(tiny_model, max_batch=4, max_queue=2)
    yield generator
    generator.close()


def reference(loaded, question, max_new_tokens):
    """transformers' own generate(), alone, greedy: what every batched answer must equal."""
    ids = loaded.tokenizer.apply_chat_template(messages(question), add_generation_prompt=True,
                                               return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        out = loaded.model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False,
                                    pad_token_id=loaded.tokenizer.pad_token_id)
    return loaded.tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


def test_answers_decoded_together_equal_each_alone(generator, tiny_model):
    results, errors = {}, []

    def ask(question, tokens):
        try:
            results[question] = "".join(generator.stream(messages(question), max_new_tokens=tokens))
        except Exception as exc:  # reported below
            errors.append(exc)

    # Different lengths, so answers join and leave a running batch at different steps.
    threads = [threading.Thread(target=ask, args=(q, 8 + 6 * i)) for i, q in enumerate(QUESTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for i, question in enumerate(QUESTIONS):
        assert results[question] == reference(tiny_model, question, 8 + 6 * i), question


def test_a_full_worker_says_busy_and_loses_nobody(generator):
    hold = threading.Event()
    running = [generator.worker.submit([1, 2, 3], 10_000, hold) for _ in range(4)]
    deadline = time.monotonic() + 60
    while generator.worker.load[0] < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert generator.worker.load == (4, 0)  # all four are in the batch, decoding
    waiting = [generator.worker.submit([1, 2, 3], 5) for _ in range(2)]
    with pytest.raises(Busy):
        generator.worker.submit([1, 2, 3], 5)
    hold.set()
    for request in running + waiting:  # every accepted request ends with END
        items = []
        while not items or items[-1] is not END:
            items.append(request.out.get(timeout=60))
        assert all(isinstance(i, str) for i in items[:-1])


def test_cancel_and_early_exit_free_the_row(generator):
    cancel, stats = threading.Event(), GenerationStats()
    stream = generator.stream(messages("Hello"), max_new_tokens=2000, cancel=cancel, stats=stats)
    next(stream)
    cancel.set()
    list(stream)
    assert 0 < stats.tokens_generated < 2000
    early = generator.stream(messages("Hi"), max_new_tokens=2000)
    next(early)
    early.close()
    deadline = time.monotonic() + 60
    while generator.worker.load != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert generator.worker.load == (0, 0)


def test_a_failing_model_fails_its_answers_and_the_worker_goes_on(generator, tiny_model):
    real_forward = tiny_model.model.forward
    tiny_model.model.forward = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("out of memory"))
    try:
        with pytest.raises(RuntimeError, match="out of memory"):
            list(generator.stream(messages("Hello"), max_new_tokens=5))
    finally:
        tiny_model.model.forward = real_forward
    assert "".join(generator.stream(messages("Hello"), max_new_tokens=5)) == reference(tiny_model, "Hello", 5)


def test_swap_model_waits_for_the_batch_and_changes_the_answers(tiny_model, tiny_model_dir):
    from transformers import AutoModelForCausalLM

    # Its own LoadedModel, so the swap does not change the session's tiny model.
    generator = HFGenerator(dataclasses.replace(tiny_model))
    old_answer = reference(tiny_model, "Tents", 30)
    before = "".join(generator.stream(messages("Hello"), max_new_tokens=6))
    running = generator.stream(messages("Tents"), max_new_tokens=30)
    first = next(running)
    other = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    torch.manual_seed(1)
    for parameter in other.parameters():
        parameter.data.normal_(0, 0.2)
    swapped = threading.Thread(target=generator.swap_model, args=(lambda _: other, "v2"))
    swapped.start()
    rest = "".join(running)  # the running answer finishes on the old weights
    swapped.join()
    assert first + rest == old_answer
    assert generator.adapter_version == "v2" and generator.loaded.model is other
    assert "".join(generator.stream(messages("Hello"), max_new_tokens=6)) != before
    generator.close()


def test_repetition_penalty_is_per_answer(tiny_model):
    """Penalized answers decoded together equal each decoded alone (rows do not leak)."""
    generator = HFGenerator(tiny_model, repetition_penalty=1.5)
    try:
        alone = {q: "".join(generator.stream(messages(q), max_new_tokens=16)) for q in QUESTIONS[:4]}
        together = {}
        threads = [threading.Thread(target=lambda q=q: together.__setitem__(
            q, "".join(generator.stream(messages(q), max_new_tokens=16)))) for q in QUESTIONS[:4]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert together == alone
        assert alone[QUESTIONS[0]] != reference(tiny_model, QUESTIONS[0], 16)
    finally:
        generator.close()


def test_repetition_penalty_spares_digits_and_punctuation(tiny_model):
    """Quoting "2026-10-28" repeats "2", "0" and "-": only a repeated word is penalized."""
    from chatbot.llm.batching import Request

    tokenizer = tiny_model.tokenizer
    generator = HFGenerator(tiny_model, repetition_penalty=1.5)
    try:
        worker = generator.worker
        digits = tokenizer("2026-10-28 $149.00", add_special_tokens=False)["input_ids"]
        word = tokenizer(" order", add_special_tokens=False)["input_ids"]
        assert set(digits) <= worker.unpenalized and not set(word) & worker.unpenalized
        logits = torch.ones(1, len(tokenizer))
        worker._rows = [Request([], 8, (), generated=digits + word)]
        penalized = worker._penalized(logits.clone())[0]
        worker._rows = []
        changed = set(torch.nonzero(penalized != 1).flatten().tolist())
        assert changed == set(word)
    finally:
        generator.close()
