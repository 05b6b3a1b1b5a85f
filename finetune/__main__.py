"""Command line for fine-tuning; see finetune/__init__.py for the commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shopcore.settings import cli_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finetune", description="LoRA fine-tuning for the desk")
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data", help="build the SFT set and print its data card")
    data.add_argument("--out", type=Path, help="folder for the set (default: the shop's folder/finetune/data)")
    data.add_argument("--questions", type=Path,
                      help="labelled questions (JSONL), 30%% held out for evaluation; default: the shop profile's "
                           "`questions`, if it names a file (the set is built from the profile's shop only)")
    data.add_argument("--seed", type=int, default=13)
    data.add_argument("--size", type=int, default=340, help="training examples")
    data.add_argument("--held-out-share", type=float, default=0.3, help="share of dev questions held out")
    train = commands.add_parser("train", help="train a LoRA adapter into the registry")
    train.add_argument("--data", type=Path, help="train.jsonl (or its folder) made by `finetune data`")
    train.add_argument("--name", help="adapter name in the registry (default: a timestamp)")
    train.add_argument("--out", type=Path, help="write the adapter to this folder instead of the registry")
    train.add_argument("--base", help="base causal LM, hub id or path (default CHATBOT_MODEL)")
    train.add_argument("--epochs", type=float, default=1)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--rank", type=int, default=16)
    train.add_argument("--layers", type=int, default=0, help="adapt only the top N layers (0: all)")
    train.add_argument("--accumulate", type=int, default=4, help="examples per optimizer step")
    train.add_argument("--max-steps", type=int, default=-1, help="stop after N optimizer steps")
    train.add_argument("--seed", type=int, default=13)
    train.add_argument("--fresh", action="store_true", help="ignore checkpoints of an earlier run of NAME")
    commands.add_parser("list", help="adapters in the registry")
    use = commands.add_parser("use", help="serve this adapter (or `none`); running services follow")
    use.add_argument("name")
    merge = commands.add_parser("merge", help="export the base model with an adapter merged in")
    merge.add_argument("name")
    merge.add_argument("out", type=Path)
    export = commands.add_parser("export", help="write an adapter as a model server loads it (vLLM, llama.cpp)")
    export.add_argument("name", help="registry name or adapter folder")
    export.add_argument("--format", choices=["peft", "gguf"], required=True,
                        help="peft: a folder for vLLM --lora-modules NAME=DIR; gguf: a file for llama.cpp --lora")
    export.add_argument("--out", type=Path, help="where (default: the shop's folder/exports/NAME[.gguf])")
    args = parser.parse_args(argv)

    settings = cli_settings()
    if args.command == "export":
        return _export(args, settings)
    data_dir = settings.shop_dir / "finetune" / "data"
    if args.command == "data":
        return _data(args, settings, args.out or data_dir)
    if args.command == "train":
        return _train(args, settings, args.data or data_dir)
    from chatbot.llm import registry

    try:
        if args.command == "list":
            print(registry.format_table(registry.list_adapters(settings.adapter_dir),
                                        registry.active_name(settings.adapter_dir)))
        elif args.command == "use":
            registry.set_active(settings.adapter_dir, args.name)
            print(f"serving {args.name}: running services switch within "
                  f"{registry.WATCH_SECONDS} s, without a restart")
        elif args.command == "merge":
            registry.merge(settings, args.name, args.out)
            print(f"merged model written to {args.out} (serve it with CHATBOT_MODEL={args.out} CHATBOT_ADAPTER=none)")
    except registry.AdapterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _export(args, settings) -> int:
    from chatbot.llm.registry import AdapterError
    from finetune.export import ExportError, export

    try:
        out = export(settings, args.name, args.format, args.out)
    except (AdapterError, ExportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.format == "peft":
        print(f"{out}: serve it with vLLM as in {out / 'SERVING.md'}")
    else:
        print(f"{out}: serve it with llama.cpp's server --lora {out} (evals/llamacpp_server.py --lora)")
    return 0


def _data(args, settings, out_dir: Path) -> int:
    from transformers import AutoTokenizer

    from chatbot.llm.loading import resolve_model_path
    from finetune.data import DataConfig, build_dataset, format_card, load_examples
    from knowledge.embed import Embedder
    from knowledge.index import Index
    from knowledge.retrieval import Retriever
    from shopcore.store.db import make_engine, session_factory

    retriever = Retriever(Index.load(settings.index_dir), Embedder(settings.embedding_model))
    sessions = session_factory(make_engine(settings.database_url))
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(settings.model, settings.model_cache_dir))
    config = DataConfig(seed=args.seed, size=args.size, held_out_share=args.held_out_share)
    questions_file = args.questions or settings.profile.resolve(settings.profile.questions)
    questions = load_examples(questions_file) if questions_file else []
    print(f"shop: {settings.shop_name}; documents from {settings.index_dir}, orders from its store, "
          f"{len(questions)} labelled questions" + (f" from {questions_file}" if questions_file else ""))
    card = build_dataset(config, settings=settings, retriever=retriever, sessions=sessions,
                         tokenizer=tokenizer, questions=questions, out_dir=out_dir)
    print(format_card(card))
    print(f"written to {out_dir}")
    return 0


def _train(args, settings, data_dir: Path) -> int:
    from finetune.train import TrainConfig, TrainingDataMissing, train

    config = TrainConfig(model=args.base or settings.model, epochs=args.epochs, lr=args.lr, rank=args.rank,
                         layers=args.layers, accumulate=args.accumulate, max_steps=args.max_steps,
                         seed=args.seed)
    try:
        entry = train(config, settings, data_dir, name=args.name or (args.out.name if args.out else None),
                      out=args.out, fresh=args.fresh)
    except TrainingDataMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"adapter {entry['name']} saved: eval loss {entry['metrics'].get('eval_loss')}, "
          f"{entry['metrics']['train_seconds']:.0f} s, peak memory {entry['metrics']['peak_memory_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
