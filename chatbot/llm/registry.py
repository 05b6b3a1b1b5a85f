"""The adapter registry: the desk reads it to choose which adapter serves, `finetune train`
writes new adapters into it and the finetune eval suite records its verdicts there.

One folder per adapter under CHATBOT_ADAPTER_DIR, each with the
peft weights and `adapter.json` (base model id and hash, data hash and counts,
hyper-parameters, metrics, created time, whether it is good), and an `ACTIVE` file naming
the adapter to serve.

Which adapter serves (`choose`): CHATBOT_ADAPTER if set (a registry name, a folder, or
`none` for the base model), else the name in ACTIVE (`python -m finetune use NAME`), else
the newest good adapter, else none. "Good" means training finished and lowered the
held-out loss below the base model's, and, once the finetune eval suite has compared it
with the base model, that it did not answer fewer held-out questions right nor refuse
fewer unanswerable ones: an adapter that makes answers worse is never served unasked. Services re-check the choice every WATCH_SECONDS and
switch without a restart (chatbot/llm/adapters.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from shopcore.catalog import canonical

METADATA = "adapter.json"
ACTIVE = "ACTIVE"
NONE = "none"
WATCH_SECONDS = 10


class AdapterError(Exception):
    """An adapter that does not exist, is incomplete, or belongs to another base model."""


@dataclass(frozen=True)
class Choice:
    path: Path | None  # None: the base model alone
    version: str | None  # recorded on every answer as its adapter version


def save(folder: Path, name: str, model, metadata: dict) -> Path:
    """Write the adapter and its metadata as `folder/name`, atomically (a half-written
    adapter is never visible to a service choosing one)."""
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder, prefix=f".{name}-"))
    try:
        model.save_pretrained(staging)
        (staging / METADATA).write_text(json.dumps(metadata, indent=1, default=str), encoding="utf-8")
        target = folder / name
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder / name


def read(path: Path) -> dict:
    try:
        return json.loads((path / METADATA).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdapterError(f"{path} is not an adapter from the registry ({exc})") from None


def update_metrics(folder: Path, name: str, metrics: dict, good: bool | None = None) -> None:
    """Add evaluation results (e.g. the finetune suite's) to an adapter's metadata, and
    with `good`, the verdict they lead to."""
    path = folder / name
    metadata = read(path)
    metadata.setdefault("metrics", {}).update(metrics)
    if good is not None:
        metadata["good"] = good
    staging = path / f".{METADATA}.tmp"
    staging.write_text(json.dumps(metadata, indent=1, default=str), encoding="utf-8")
    os.replace(staging, path / METADATA)


def list_adapters(folder: Path) -> list[dict]:
    """Every complete adapter, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if path.is_dir() and not path.name.startswith(".") and (path / METADATA).exists():
            try:
                found.append(read(path))
            except AdapterError:
                continue
    return sorted(found, key=lambda m: (m.get("created", ""), m["name"]))


def install_shipped(shipped: Path | None, folder: Path, base_model: str) -> list[str]:
    """Copy the ready-made adapters in `shipped` that fit base_model into the registry, unless
    one of that name is there already (a shop's own adapter, or the one copied before);
    return the names copied. Newer adapters a shop trains are chosen over them as usual."""
    if shipped is None or not shipped.is_dir():
        return []
    copied = []
    for source in sorted(p for p in shipped.iterdir() if (p / METADATA).exists()):
        metadata = read(source)
        if canonical(metadata.get("base_model", "")) != canonical(base_model) or (folder / source.name).exists():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder, prefix=f".{source.name}-"))
        try:
            shutil.copytree(source, staging, dirs_exist_ok=True)
            staging.rename(folder / source.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        copied.append(source.name)
    return copied


def set_active(folder: Path, name: str) -> None:
    if name != NONE and not (folder / name / METADATA).exists():
        raise AdapterError(f"no adapter named {name!r} in {folder}; see `python -m finetune list`")
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".{ACTIVE}.tmp"
    staging.write_text(name + "\n", encoding="utf-8")
    os.replace(staging, folder / ACTIVE)


def active_name(folder: Path) -> str | None:
    try:
        return (folder / ACTIVE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def choose(setting: str, folder: Path, base_model: str) -> Choice:
    """The adapter to serve for CHATBOT_ADAPTER=setting (see the module docstring)."""
    wanted = setting.strip() or active_name(folder)
    if wanted == NONE:
        return Choice(None, None)
    if wanted:
        path = Path(wanted).expanduser() if Path(wanted).expanduser().is_dir() else folder / wanted
        if not (path / "adapter_config.json").exists():
            raise AdapterError(f"adapter {wanted!r} not found (a registry name in {folder}, or a folder)")
        metadata = read(path) if (path / METADATA).exists() else {"name": path.name}
    else:
        good = [m for m in list_adapters(folder)
                if m.get("good") and canonical(m.get("base_model", "")) == canonical(base_model)]
        if not good:
            return Choice(None, None)
        metadata = good[-1]
        path = folder / metadata["name"]
    if canonical(metadata.get("base_model", base_model)) != canonical(base_model):
        raise AdapterError(f"adapter {metadata['name']!r} was trained on {metadata['base_model']!r}, "
                           f"not on CHATBOT_MODEL={base_model!r}")
    return Choice(path, metadata["name"])


def model_hash(model_path: str) -> str:
    """sha256 over a local model's weight files (the hub id itself for a remote model)."""
    path = Path(model_path)
    if not path.is_dir():
        return hashlib.sha256(model_path.encode()).hexdigest()
    digest = hashlib.sha256()
    for weights in sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin")):
        with open(weights, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 22), b""):
                digest.update(block)
    return digest.hexdigest()


def merge(settings, name: str, out: Path) -> Path:
    """The base model with adapter `name` merged into its weights, saved as a plain model."""
    from chatbot.llm.loading import load_model

    choice = choose(name, settings.adapter_dir, settings.model)
    loaded = load_model(settings.model_copy(update={"quantize": "none", "device": "cpu"}), adapter=choice.path)
    out.mkdir(parents=True, exist_ok=True)
    loaded.model.save_pretrained(out)
    loaded.tokenizer.save_pretrained(out)
    return out


def format_table(adapters: list[dict], active: str | None) -> str:
    if not adapters:
        return "no adapters yet: run `python -m finetune data` and `python -m finetune train`"
    lines = [f"{'':2}{'name':<24} {'created':<20} {'good':<5} {'eval loss':>9} {'base loss':>9}  base model"]
    for m in adapters:
        metrics = m.get("metrics", {})
        mark = "* " if m["name"] == active else "  "
        lines.append(f"{mark}{m['name']:<24} {str(m.get('created', ''))[:19]:<20} {str(bool(m.get('good'))):<5} "
                     f"{_num(metrics.get('eval_loss')):>9} {_num(metrics.get('base_eval_loss')):>9}  {m.get('base_model')}")
    return "\n".join(lines)


def new_name() -> str:
    return datetime.now().strftime("adapter-%Y%m%d-%H%M%S")


def _num(value) -> str:
    return "-" if value is None else f"{value:.4f}"
