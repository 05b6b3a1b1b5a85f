"""Model loading, device/dtype choice and streaming generation on real transformers models."""

import threading
from pathlib import Path

import pytest
import torch

from chatbot.llm.generation import GenerationStats, HFGenerator
from chatbot.llm.loading import ModelUnavailable, pick_device, pick_dtype, resolve_model_path
from tests.conftest import SMOLLM2

MESSAGES = [{"role": "system", "content": "You are a shop assistant."},
            {"role": "user", "content": "Hello!"}]


def test_a_pulled_model_is_converted_once_and_read_from_the_cache(smollm2_dir):
    from shopcore import catalog

    weights = Path(smollm2_dir) / "model.safetensors"
    before = weights.stat().st_mtime_ns
    # Pulling again, and resolving by name or alias, read the cached copy: no new conversion.
    assert catalog.pull(SMOLLM2, Path(smollm2_dir).parent) == Path(smollm2_dir)
    assert resolve_model_path("HuggingFaceTB/SmolLM2-135M-Instruct", Path(smollm2_dir).parent) == smollm2_dir
    assert weights.stat().st_mtime_ns == before


def test_a_catalog_model_not_pulled_names_the_command_and_nothing_downloads(tmp_path):
    with pytest.raises(ModelUnavailable, match="python -m chatbot models pull qwen2.5-1.5b"):
        resolve_model_path("qwen2.5-1.5b", tmp_path)
    assert not any(tmp_path.iterdir())


def test_other_models_keep_hub_ids_and_local_paths(tmp_path):
    assert resolve_model_path("Qwen/Qwen2.5-0.5B-Instruct", tmp_path) == "Qwen/Qwen2.5-0.5B-Instruct"
    assert resolve_model_path(str(tmp_path), tmp_path / "cache") == str(tmp_path)


def test_auto_device_and_dtype():
    device = pick_device("auto")
    assert device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    native_bf16 = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert pick_dtype("auto", torch.device("cpu")) == (torch.bfloat16 if native_bf16 else torch.float32)
    assert pick_dtype("bfloat16", torch.device("cpu")) == torch.bfloat16


def test_auto_quantization_is_int8_weights_only_for_bf16_on_a_cpu():
    from chatbot.llm.loading import pick_quantization

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert pick_quantization("auto", cpu, torch.bfloat16) == "int8-weights"
    assert pick_quantization("auto", cpu, torch.float32) == "none"
    assert pick_quantization("auto", cuda, torch.bfloat16) == "none"
    assert pick_quantization("int8", cpu, torch.float32) == "int8"


@pytest.mark.parametrize("rows", [1, 5, 40])  # the int8 kernel for decode steps, a widened weight beyond
def test_int8_weight_linear_is_close_to_the_float_layer(rows):
    from chatbot.llm.cpu import Int8WeightLinear

    torch.manual_seed(0)
    linear = torch.nn.Linear(96, 64, bias=True).bfloat16()
    x = torch.randn(2, rows, 96, dtype=torch.bfloat16)
    quantized = Int8WeightLinear(linear, torch.bfloat16)
    expected, got = linear(x).float(), quantized(x).float()
    assert got.shape == expected.shape
    assert (got - expected).norm() / expected.norm() < 0.02


def test_served_smollm2_agrees_with_float32_and_its_cached_prefix(smollm2, smollm2_dir, tmp_path):
    """The CPU serving format (bf16, int8 weights, float32 attention where chosen) predicts
    what float32 does, and continuing from a cached prefix (as the worker does) predicts
    what a full prefill does."""
    from transformers.cache_utils import DynamicCache

    from chatbot.llm.loading import load_model
    from tests.conftest import make_settings

    reference = load_model(make_settings(tmp_path, device="cpu", dtype="float32", quantize="none"))
    text = "Returns are free within 30 days of delivery. How long do I have to return an item? You have"
    ids = smollm2.tokenizer(text, return_tensors="pt").input_ids
    with torch.inference_mode():
        served = smollm2.model(input_ids=ids).logits[0].float()
        exact = reference.model(input_ids=ids).logits[0]
        assert (served.argmax(-1) == exact.argmax(-1)).float().mean() >= 0.9
        split = ids.shape[1] // 2
        prefix = smollm2.model(input_ids=ids[:, :split], use_cache=True).past_key_values
        cache = DynamicCache([(layer.keys, layer.values) for layer in prefix.layers])
        rest = smollm2.model(input_ids=ids[:, split:], past_key_values=cache, use_cache=True).logits[0].float()
    assert (rest.argmax(-1) == served[split:].argmax(-1)).float().mean() >= 0.9


def test_tiny_model_streams_pieces_and_counts_tokens(tiny_model):
    stats = GenerationStats()
    pieces = list(HFGenerator(tiny_model).stream(MESSAGES, max_new_tokens=12, stats=stats))
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert stats.prompt_tokens > 10
    assert 0 < stats.tokens_generated <= 12


def test_cancel_stops_generation_early(tiny_model):
    cancel, stats = threading.Event(), GenerationStats()
    stream = HFGenerator(tiny_model).stream(MESSAGES, max_new_tokens=400, cancel=cancel, stats=stats)
    next(stream)
    cancel.set()
    list(stream)
    assert stats.tokens_generated < 400


def test_smollm2_answers_in_words(smollm2):
    text = "".join(HFGenerator(smollm2).stream(MESSAGES, max_new_tokens=20))
    assert len(text.split()) >= 3


def test_int8_quantization_is_a_cpu_choice_and_still_generates(tiny_model_dir, tmp_path):
    import dataclasses

    from chatbot.llm.loading import load_model
    from shopcore.settings import Settings

    loaded = load_model(Settings(home=tmp_path, model=str(tiny_model_dir), device="cpu", dtype="float32",
                                 quantize="int8"))
    assert any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in loaded.model.modules())
    generator = HFGenerator(dataclasses.replace(loaded))
    try:
        stats = GenerationStats()
        assert list(generator.stream(MESSAGES, max_new_tokens=6, stats=stats)) and stats.tokens_generated
    finally:
        generator.close()


def test_a_translation_model_loads_beside_the_served_one_only_when_it_is_another(smollm2_dir, tmp_path):
    from chatbot.desk import Desk
    from chatbot.llm.generation import build_translator
    from tests.conftest import make_settings

    assert build_translator(make_settings(tmp_path)) is None  # none set: the base model translates
    assert build_translator(make_settings(tmp_path, translation_model=SMOLLM2)) is None  # the served one
    assert build_translator(make_settings(tmp_path, model="qwen2.5-0.5b", translation_model=SMOLLM2,
                                          shop_languages=["en"])) is None  # nothing to translate
    assert build_translator(make_settings(tmp_path, model="qwen2.5-0.5b", translation_model=SMOLLM2,
                                          generator="openai")) is None  # a model server's workers load none
    translator = build_translator(make_settings(tmp_path, model="qwen2.5-0.5b", translation_model=SMOLLM2))
    try:
        assert translator.model_id == SMOLLM2 and translator.adapter_version is None
        served = object()
        assert Desk(None, None, served, None, None, None, translator=translator).translating_generator is translator
        assert Desk(None, None, served, None, None, None).translating_generator is served
    finally:
        translator.close()
