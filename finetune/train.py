"""`python -m finetune train`: a LoRA adapter on a causal LM, with the transformers Trainer
(accelerate places it: the CPU here, CUDA with bf16 when present).

- loss only on the assistant's tokens: the prompt (rules, evidence, history, question) is
  masked out of the labels, and the LM head runs only where there are labels (over a 49k
  vocabulary it is a fifth of a step's work at every prompt position);
- LoRA on all linear layers of every transformer layer (or of the top `layers` only: the
  backward pass then stops early, faster but worse: the top 8 of SmolLM2's 30 layers gave
  a held-out loss of 0.83 where all of them gave 0.37-0.43 in the same time under bf16,
  both on prompts with whole passages; focused evidence brought all layers to 0.20);
- bf16 where the device multiplies it natively: bf16 weights on CUDA, float32 weights under
  bf16 autocast on a CPU with AVX512-BF16 or AMX (1.75x faster per example here);
- evaluation loss on the held-out examples twice per epoch, the best checkpoint kept,
  early stopping when it stops improving; checkpoints under the registry's `.runs/NAME`,
  and a run started again with the same name resumes from the last one;
- seeded; a progress bar from the Trainer.
The adapter lands in the registry with its metadata (chatbot/llm/registry.py).
"""

from __future__ import annotations

import math
import resource
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from chatbot.llm import registry
from shopcore.catalog import canonical
from finetune.data import file_hash, load_examples


class TrainingDataMissing(Exception):
    """No training set where one was expected."""


@dataclass
class TrainConfig:
    model: str  # hub id or local path of the base causal LM
    epochs: float = 1.0
    lr: float = 1e-3
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    layers: int = 0  # adapt only the top N transformer layers; 0: all
    accumulate: int = 4  # examples per optimizer step (batches of one: no padding)
    max_steps: int = -1
    max_length: int = 2048
    eval_per_epoch: int = 2
    patience: int = 2  # evaluations without improvement before stopping
    seed: int = 13


def tokenize(example: dict, tokenizer, max_length: int) -> dict | None:
    """input_ids and labels of one example; labels are -100 except on the answer (and the
    end-of-turn token that ends it). None if the example does not fit max_length."""
    prompt = tokenizer.apply_chat_template(example["messages"], add_generation_prompt=True, tokenize=True,
                                           return_dict=False)
    full = tokenizer.apply_chat_template(example["messages"] + [{"role": "assistant", "content": example["answer"]}],
                                         tokenize=True, return_dict=False)
    if full[:len(prompt)] != prompt:
        raise ValueError("the chat template does not extend the prompt with the answer; cannot mask it")
    end = _answer_end(tokenizer, full, len(prompt))
    if end > max_length:
        return None
    ids = full[:end]
    return {"input_ids": ids, "labels": [-100] * len(prompt) + ids[len(prompt):]}


def answer_batch(features: list[dict]) -> dict:
    """A batch of one example, with the logits kept only from the last prompt token on (the
    one that predicts the answer's first token) and the labels cut to match."""
    import torch

    if len(features) != 1:
        raise ValueError("training batches hold one example each (no padding); accumulate instead")
    ids, labels = features[0]["input_ids"], features[0]["labels"]
    start = next((i for i, label in enumerate(labels) if label != -100), len(labels))
    keep = len(ids) - start + 1
    return {"input_ids": torch.tensor([ids]), "labels": torch.tensor([labels[-keep:]]), "logits_to_keep": keep}


def _answer_end(tokenizer, ids: list[int], start: int) -> int:
    """Index just past the answer's end-of-turn token (the template may add a newline after)."""
    eos = tokenizer.eos_token_id
    for i in range(start, len(ids)):
        if ids[i] == eos:
            return i + 1
    return len(ids)


def train(config: TrainConfig, settings, data: Path, *, name: str | None = None, out: Path | None = None,
          fresh: bool = False) -> dict:
    """Train, save the adapter into the registry (or `out`), and return its metadata."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        EarlyStoppingCallback,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from shopcore.threads import set_threads
    from chatbot.llm.loading import pick_device, pick_dtype, resolve_model_path

    train_file = data if data.is_file() else data / "train.jsonl"
    held_file = train_file.with_name("heldout.jsonl")
    if not train_file.exists() or not held_file.exists():
        raise TrainingDataMissing(f"no training set at {train_file.parent}: run `python -m finetune data` first")
    name = name or registry.new_name()
    run_dir = settings.adapter_dir / ".runs" / name
    set_seed(config.seed)
    started = time.perf_counter()

    path = resolve_model_path(config.model, settings.model_cache_dir)
    device = pick_device(settings.device)
    if device.type == "cpu":
        set_threads(settings.threads)  # training runs in this thread: every core
    # bf16 where the device multiplies it natively (a GPU, or a CPU with AVX512-BF16/AMX):
    # on CUDA the weights are bf16; on the CPU they stay float32 under bf16 autocast.
    bf16 = pick_dtype(settings.dtype, device) == torch.bfloat16
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    train_set = _tokenized(load_examples(train_file), tokenizer, config.max_length)
    held_set = _tokenized(load_examples(held_file), tokenizer, config.max_length)
    if not train_set or not held_set:
        raise TrainingDataMissing(f"{train_file.parent} has no usable training or held-out examples")

    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16 if bf16 and device.type == "cuda"
                                                 else torch.float32)
    layer_count = model.config.num_hidden_layers
    layers = list(range(layer_count - config.layers, layer_count)) if 0 < config.layers < layer_count else None
    lora = LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout,
                      target_modules=_linear_names(model), layers_to_transform=layers, task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)

    steps_per_epoch = max(1, math.ceil(len(train_set) / config.accumulate))
    eval_every = max(1, steps_per_epoch // config.eval_per_epoch)
    args = TrainingArguments(
        output_dir=str(run_dir), per_device_train_batch_size=1, per_device_eval_batch_size=1,
        gradient_accumulation_steps=config.accumulate, num_train_epochs=config.epochs,
        max_steps=config.max_steps, learning_rate=config.lr, lr_scheduler_type="cosine", warmup_steps=0.05,
        eval_strategy="steps", eval_steps=eval_every, save_strategy="steps", save_steps=eval_every,
        save_total_limit=2, load_best_model_at_end=True, metric_for_best_model="eval_loss",
        greater_is_better=False, logging_steps=max(1, eval_every // 4), report_to="none", seed=config.seed,
        data_seed=config.seed, bf16=bf16, use_cpu=device.type == "cpu", dataloader_pin_memory=False,
        remove_unused_columns=False, disable_tqdm=False,
    )
    trainer = Trainer(model=model, args=args, train_dataset=train_set, eval_dataset=held_set,
                      data_collator=answer_batch,
                      callbacks=[EarlyStoppingCallback(early_stopping_patience=config.patience)])
    resume = not fresh and any(run_dir.glob("checkpoint-*"))
    base_loss = _base_loss(trainer, run_dir / "base_eval.json", reuse=resume)
    result = trainer.train(resume_from_checkpoint=True if resume else None)
    # The best checkpoint is loaded back; its loss was measured when it was saved.
    best_loss = trainer.state.best_metric if trainer.state.best_metric is not None else trainer.evaluate()["eval_loss"]
    seconds = time.perf_counter() - started

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    metrics = {
        "base_eval_loss": base_loss, "eval_loss": best_loss, "train_loss": result.training_loss,
        "steps": result.global_step, "train_seconds": round(seconds, 1), "peak_memory_mb": round(peak_mb),
        "device": str(device), "dtype": "bfloat16" if bf16 else "float32", "resumed": resume,
    }
    if device.type == "cuda":
        metrics["peak_gpu_memory_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
    card_path = train_file.with_name("card.json")
    split_path = train_file.with_name("split.json")
    metadata = {
        "name": name, "base_model": canonical(config.model), "base_hash": registry.model_hash(path),
        "data_hash": file_hash(train_file), "data_dir": str(train_file.parent),
        "data_card": _read_json(card_path), "held_out_questions": _read_json(split_path).get("held_out_questions", []),
        "hyperparameters": asdict(config), "metrics": metrics,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "good": best_loss < base_loss,
    }
    if out is not None:
        registry.save(out.parent, out.name, trainer.model, metadata)
    else:
        registry.save(settings.adapter_dir, name, trainer.model, metadata)
    return metadata


def _linear_names(model) -> list[str]:
    """The names of the Linear layers inside the transformer blocks (q_proj, up_proj, ...):
    what peft's "all-linear" means, spelled out because it cannot be combined with a
    choice of layers."""
    import torch

    output = model.get_output_embeddings()
    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, torch.nn.Linear) and module is not output})


def _base_loss(trainer, record: Path, *, reuse: bool) -> float:
    """The held-out loss before training (a fresh LoRA adapter changes nothing), measured
    once per run: a resumed run reads it back."""
    import json

    if reuse and record.exists():
        return json.loads(record.read_text())["eval_loss"]
    loss = trainer.evaluate()["eval_loss"]
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"eval_loss": loss}))
    return loss


def _tokenized(examples: list[dict], tokenizer, max_length: int) -> list[dict]:
    rows = [tokenize(e, tokenizer, max_length) for e in examples]
    return [r for r in rows if r is not None]


def _read_json(path: Path) -> dict:
    import json

    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
