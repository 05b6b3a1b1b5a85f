"""Model loading, device/dtype choice and streaming generation on real transformers models."""

import threading
from pathlib import Path

import torch

from chatbot.llm.generation import GenerationStats, HFGenerator
from chatbot.llm.loading import embedded_gguf, pick_device, pick_dtype, resolve_model_path
from chatbot.settings import DEFAULT_MODEL

MESSAGES = [{"role": "system", "content": "You are a shop assistant."},
            {"role": "user", "content": "Hello!"}]


def test_embedded_model_is_converted_once_and_cached(smollm2_dir):
    weights = Path(smollm2_dir) / "model.safetensors"
    assert embedded_gguf() is not None and weights.exists()
    before = weights.stat().st_mtime_ns
    # A second resolve reads the cached copy instead of converting the GGUF again.
    assert resolve_model_path(DEFAULT_MODEL, Path(smollm2_dir).parent) == smollm2_dir
    assert weights.stat().st_mtime_ns == before


def test_other_models_keep_hub_ids_and_local_paths(tmp_path):
    assert resolve_model_path("Qwen/Qwen2.5-0.5B-Instruct", tmp_path) == "Qwen/Qwen2.5-0.5B-Instruct"
    assert resolve_model_path(str(tmp_path), tmp_path / "cache") == str(tmp_path)


def test_auto_device_and_dtype():
    device = pick_device("auto")
    assert device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_dtype("auto", torch.device("cpu")) == torch.float32
    assert pick_dtype("bfloat16", torch.device("cpu")) == torch.bfloat16


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

    from chatbot.llm.loading import load_model, pick_quantization
    from chatbot.settings import Settings

    assert pick_quantization("auto", torch.device("cpu")) == "none"
    assert pick_quantization("int8", torch.device("cpu")) == "int8"
    loaded = load_model(Settings(home=tmp_path, model=str(tiny_model_dir), device="cpu", quantize="int8"))
    assert any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in loaded.model.modules())
    generator = HFGenerator(dataclasses.replace(loaded))
    try:
        stats = GenerationStats()
        assert list(generator.stream(MESSAGES, max_new_tokens=6, stats=stats)) and stats.tokens_generated
    finally:
        generator.close()
