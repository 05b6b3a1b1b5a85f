"""Export a registry adapter in the form a model server loads, by name:

    python -m finetune export NAME --format peft [--out DIR]   # vLLM: --lora-modules NAME=DIR
    python -m finetune export NAME --format gguf [--out FILE]  # llama.cpp: --lora FILE

peft: the adapter's own folder (adapter_config.json + adapter_model.safetensors), with the
base model named as the folder vLLM serves, and a SERVING.md with the exact command.
gguf: a GGUF LoRA file (general.type=adapter, adapter.type=lora, adapter.lora.alpha, one
`<tensor>.lora_a` / `.lora_b` pair per adapted weight) as llama.cpp's own
convert_lora_to_gguf.py writes it. That script ships with llama.cpp's sources only: neither
the `gguf` package nor the xllamacpp wheel carries it, so the few lines it takes are here,
on the `gguf` package's writer and tensor names (Qwen2 and Llama architectures).

The desk then asks the server for NAME when it is the registry's choice (chatbot/llm/server.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from chatbot.llm import registry

# The architectures whose tensor names and layouts are handled here, by config.json's model_type.
ARCHITECTURES = {"qwen2": "QWEN2", "llama": "LLAMA"}
FORMATS = ("peft", "gguf")


class ExportError(Exception):
    """An adapter that cannot be exported in the asked form; the message says why."""


def export(settings, name: str, fmt: str, out: Path | None = None) -> Path:
    """Write adapter `name` (a registry name or folder) in format `fmt`; return where."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    choice = registry.choose(name, settings.adapter_dir, settings.model)
    if choice.path is None:
        raise ExportError("`none` is the base model alone: there is no adapter to export")
    default = settings.shop_dir / "exports" / (choice.version + (".gguf" if fmt == "gguf" else ""))
    out = Path(out) if out is not None else default
    base_dir = Path(_base_dir(settings))
    if fmt == "peft":
        return export_peft(choice.path, choice.version, base_dir, settings.model, out)
    return export_gguf(choice.path, base_dir, out)


def export_peft(adapter: Path, name: str, base_dir: Path, served_base: str, out: Path) -> Path:
    """The PEFT folder vLLM loads with `--lora-modules NAME=out`."""
    config = json.loads((adapter / "adapter_config.json").read_text())
    if config.get("peft_type") != "LORA":
        raise ExportError(f"{adapter} is a {config.get('peft_type')} adapter; servers load LoRA")
    if config.get("modules_to_save"):
        raise ExportError(f"{adapter} also trains {config['modules_to_save']}: vLLM's LoRA cannot load that")
    staging = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copy2(adapter / "adapter_model.safetensors", staging / "adapter_model.safetensors")
    config["base_model_name_or_path"] = served_base  # the name vLLM serves the base model under
    (staging / "adapter_config.json").write_text(json.dumps(config, indent=1))
    if (adapter / registry.METADATA).exists():
        shutil.copy2(adapter / registry.METADATA, staging / registry.METADATA)
    (staging / "SERVING.md").write_text(
        f"# Serving {name} with vLLM\n\n"
        f"```\nvllm serve {base_dir} --served-model-name {served_base} \\\n"
        f"    --enable-lora --max-lora-rank {max(16, int(config['r']))} --lora-modules {name}={out.resolve()}\n```\n\n"
        f"The base is the desk's own copy of {served_base} (the weights the adapter was trained on).\n"
        f"The desk asks for `{name}` when it is the registry's choice (`python -m finetune use {name}`),\n"
        f"or with CHATBOT_OPENAI_MODEL={name}.\n")
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return out


def export_gguf(adapter: Path, base_dir: Path, out: Path) -> Path:
    """A GGUF LoRA file for llama.cpp's `--lora`, for the base model in base_dir."""
    import gguf
    import numpy as np
    from safetensors.torch import load_file  # the weights are bfloat16, which numpy lacks

    config = json.loads((adapter / "adapter_config.json").read_text())
    base = json.loads((base_dir / "config.json").read_text())
    if config.get("peft_type") != "LORA" or config.get("use_dora") or config.get("modules_to_save"):
        raise ExportError(f"{adapter}: only plain LoRA on linear layers converts to a GGUF LoRA")
    arch_name = ARCHITECTURES.get(base.get("model_type"))
    if arch_name is None:
        raise ExportError(f"base model type {base.get('model_type')!r} is not one of {', '.join(ARCHITECTURES)}")
    arch = getattr(gguf.MODEL_ARCH, arch_name)
    names = gguf.get_tensor_name_map(arch, base["num_hidden_layers"])
    # PEFT scales B·A by alpha/r (alpha/sqrt(r) with rsLoRA); llama.cpp by alpha/rank.
    rank = int(config["r"])
    alpha = float(config["lora_alpha"]) * ((rank ** 0.5) if config.get("use_rslora") else 1.0)
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise ExportError(f"{adapter}: per-module ranks or alphas are not supported here")

    weights = load_file(str(adapter / "adapter_model.safetensors"))
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, value in weights.items():
        # base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight
        stem, _, part = key.rpartition(".lora_")
        if part not in ("A.weight", "B.weight"):
            raise ExportError(f"{adapter}: unexpected tensor {key}")
        hf_name = stem.removeprefix("base_model.model.") + ".weight"
        gguf_name = names.get_name(hf_name, try_suffixes=(".weight",))
        if gguf_name is None:
            raise ExportError(f"{adapter}: no llama.cpp tensor for {hf_name}")
        pairs.setdefault(gguf_name, {})[part[0]] = value.float().numpy()

    staging = out.with_name(f".{out.name}.tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(staging), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    for gguf_name, pair in sorted(pairs.items()):
        if set(pair) != {"A", "B"}:
            raise ExportError(f"{adapter}: {gguf_name} lacks its lora_{'B' if 'A' in pair else 'A'}")
        lora_a, lora_b = pair["A"], pair["B"]  # (r, in) and (out, r), as llama.cpp expects them
        if arch_name == "LLAMA":  # llama.cpp's Llama GGUF stores q and k rows permuted for its RoPE
            heads = {"attn_q": base["num_attention_heads"],
                     "attn_k": base.get("num_key_value_heads", base["num_attention_heads"])}
            kind = gguf_name.split(".")[2]
            if kind in heads:
                lora_b = _permute(lora_b, heads[kind])
        writer.add_tensor(f"{gguf_name}.lora_a", np.ascontiguousarray(lora_a))
        writer.add_tensor(f"{gguf_name}.lora_b", np.ascontiguousarray(lora_b))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    staging.replace(out)
    return out


def _permute(rows, heads: int):
    """convert_hf_to_gguf.py's LlamaModel.permute, on the output rows of a LoRA B matrix."""
    return rows.reshape(heads, 2, rows.shape[0] // heads // 2, *rows.shape[1:]).swapaxes(1, 2).reshape(rows.shape)


def _base_dir(settings) -> str:
    from chatbot.llm.loading import resolve_model_path

    return resolve_model_path(settings.model, settings.model_cache_dir)
