"""`python -m finetune export NAME --format peft|gguf`: the demo shop's shipped adapter in the
form each server loads. The GGUF LoRA is served by llama.cpp (on the default model's GGUF)
and must answer as the adapter answers in transformers; the PEFT folder is what vLLM's
--lora-modules loads (vLLM itself needs a GPU and was not run here)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from safetensors.torch import load_file

from finetune.__main__ import main as finetune_main
from finetune.export import ExportError, export
from shopcore.settings import REPO_ROOT
from tests.conftest import MODEL_CACHE, make_settings

SHIPPED = REPO_ROOT / "knowledge" / "demo" / "adapters" / "ridgeline-qwen2.5-0.5b"
MODEL = "qwen2.5-0.5b"
MESSAGES = [{"role": "system", "content": "You are the customer-service assistant of Ridgeline Outfitters. "
             "Answer from the evidence.\n\nEvidence:\n[1] Returns: Unworn items can be returned within 30 days "
             "of delivery. A prepaid return label costs $6.95."},
            {"role": "user", "content": "hey can i send back boots i wore once?"}]


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, model=MODEL)


def test_peft_export_is_the_folder_vllm_loads_by_name(settings, tmp_path):
    out = export(settings, str(SHIPPED), "peft", tmp_path / "ridgeline")
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == 16 and config["base_model_name_or_path"] == MODEL
    original, exported = load_file(SHIPPED / "adapter_model.safetensors"), load_file(out / "adapter_model.safetensors")
    assert original.keys() == exported.keys() and all(original[k].equal(exported[k]) for k in original)
    from peft import PeftConfig

    assert PeftConfig.from_pretrained(str(out)).target_modules == set(config["target_modules"])
    serving = (out / "SERVING.md").read_text()
    assert f"--lora-modules ridgeline-qwen2.5-0.5b={out.resolve()}" in serving
    assert f"--served-model-name {MODEL}" in serving and "--enable-lora" in serving


def test_export_refuses_what_it_cannot_write(settings, tmp_path, capsys):
    with pytest.raises(ExportError, match="unknown format"):
        export(settings, str(SHIPPED), "onnx", tmp_path / "x")
    with pytest.raises(ExportError, match="base model alone"):
        export(settings, "none", "gguf", tmp_path / "x")
    assert finetune_main(["export", "no-such-adapter", "--format", "gguf"]) == 1
    assert "not found" in capsys.readouterr().err


@pytest.fixture(scope="module")
def exported_on_llamacpp(tmp_path_factory):
    """The shipped adapter exported as NAME.gguf, served by llama.cpp beside the base GGUF."""
    from evals import llamacpp_env
    from shopcore import catalog

    folder = tmp_path_factory.mktemp("export")
    out = export(make_settings(folder, model=MODEL), str(SHIPPED), "gguf", folder / f"{SHIPPED.name}.gguf")
    if llamacpp_env.python_path() is None:
        try:
            llamacpp_env.create()
        except Exception as exc:
            pytest.skip(f"cannot install {llamacpp_env.LLAMA_CPP_REQUIREMENT}: {exc}")
    base_gguf = catalog.joined_file(catalog.find(MODEL), MODEL_CACHE)
    with llamacpp_env.serving(base_gguf, parallel=1, ctx=2048, threads=2, lora=[out]) as url:
        yield out, url


@pytest.fixture(scope="module")
def transformers_answers():
    """What the adapter answers MESSAGES with in transformers (greedy, float32)."""
    from chatbot.llm.loading import load_model

    settings = make_settings(Path("/nonexistent"), model=MODEL, quantize="none", dtype="float32", device="cpu")
    loaded = load_model(settings, adapter=SHIPPED)
    ids = loaded.tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True)
    generated = loaded.model.generate(**ids, max_new_tokens=40, do_sample=False)
    return {"adapter": loaded.tokenizer.decode(generated[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)}


@pytest.mark.slow
def test_gguf_lora_on_llamacpp_answers_as_the_adapter_does_in_transformers(exported_on_llamacpp,
                                                                           transformers_answers):
    import gguf

    out, url = exported_on_llamacpp
    reader = gguf.GGUFReader(out)
    fields = {name: reader.fields[name].contents() for name in ("general.type", "adapter.type", "adapter.lora.alpha")}
    assert fields == {"general.type": "adapter", "adapter.type": "lora", "adapter.lora.alpha": 32.0}
    assert len(reader.tensors) == 2 * 7 * 24  # A and B for 7 projections in 24 layers

    def ask(scale: float) -> str:  # llama.cpp takes each adapter's scale per request
        response = httpx.post(f"{url}/v1/chat/completions", timeout=300, json={
            "messages": MESSAGES, "max_tokens": 40, "temperature": 0, "lora": [{"id": 0, "scale": scale}]})
        return response.json()["choices"][0]["message"]["content"]

    with_adapter, without = ask(1.0), ask(0.0)
    print(f"\nllama.cpp + GGUF LoRA: {with_adapter!r}\ntransformers + PEFT:   {transformers_answers['adapter']!r}\n"
          f"llama.cpp base:        {without!r}")
    assert with_adapter != without  # the adapter changes what llama.cpp says ...
    # ... into what the adapter says in transformers (llama.cpp runs the Q4 weights, so only
    # the opening is compared; a wrong layout or scale changes it from the first words)
    assert with_adapter[:60] == transformers_answers["adapter"][:60]


@pytest.mark.slow
def test_the_registry_switches_which_adapter_the_desk_asks_llamacpp_for(exported_on_llamacpp,
                                                                       transformers_answers, tmp_path):
    """The registry's choice is asked for by name; `finetune use none` switches a running
    desk back to the base model through the adapter watch, without a restart."""
    from chatbot.llm import registry
    from chatbot.llm.adapters import AdapterWatch
    from chatbot.llm.generation import build_generator

    _, url = exported_on_llamacpp
    settings = make_settings(tmp_path, model=MODEL, generator="openai", openai_base_url=f"{url}/v1")
    assert registry.install_shipped(SHIPPED.parent, settings.adapter_dir, MODEL) == [SHIPPED.name]
    generator = build_generator(settings)
    assert generator.served_model == generator.adapter_version == SHIPPED.name

    def answer() -> str:
        return "".join(generator.stream(MESSAGES, max_new_tokens=40))

    assert answer()[:60] == transformers_answers["adapter"][:60]
    registry.set_active(settings.adapter_dir, "none")
    assert AdapterWatch(generator, settings).check()
    assert generator.served_model == MODEL and generator.adapter_version is None
    assert answer()[:60] != transformers_answers["adapter"][:60]
    registry.set_active(settings.adapter_dir, SHIPPED.name)
    assert AdapterWatch(generator, settings).check() and generator.adapter_version == SHIPPED.name
    assert answer()[:60] == transformers_answers["adapter"][:60]


def test_the_cli_names_where_it_wrote(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CHATBOT_HOME", str(tmp_path))
    monkeypatch.setenv("CHATBOT_MODEL", MODEL)
    monkeypatch.setenv("CHATBOT_MODEL_CACHE_DIR", str(MODEL_CACHE))
    assert finetune_main(["export", str(SHIPPED), "--format", "peft", "--out", str(tmp_path / "p")]) == 0
    assert "SERVING.md" in capsys.readouterr().out and (Path(tmp_path) / "p" / "adapter_config.json").exists()
