"""Command line for shop knowledge.

    python -m knowledge build [--source DIR ...] [--index DIR] [--no-catalog] [--full]
    python -m knowledge query "TEXT" [--k 5] [--index DIR] [--mode hybrid|dense|keyword]
                              [--doc-type T ...] [--category C ...] [--json]
    python -m knowledge load-shop [--from DIR]    # products, customers, orders: CSV or JSON
    python -m knowledge sync-shop                 # once, from the shop profile's `sync` queries
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shopcore.settings import cli_settings


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = cli_settings()
    if args.command == "load-shop":
        return _load_shop(args, settings)
    if args.command == "sync-shop":
        return _sync_shop(settings)
    from knowledge.embed import Embedder

    embedder = Embedder(settings.embedding_model)
    if args.command == "build":
        return _build(args, settings, embedder)
    return _query(args, settings, embedder)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="index shop documents and the product catalog")
    build.add_argument("--source", type=Path, action="append", help="folder of documents (repeatable)")
    build.add_argument("--index", type=Path, help="index folder (default CHATBOT_INDEX_DIR)")
    build.add_argument("--no-catalog", action="store_true", help="leave out the store's products")
    build.add_argument("--full", action="store_true", help="re-embed everything, not only what changed")
    query = commands.add_parser("query", help="show the chunks that best match a question")
    query.add_argument("text")
    query.add_argument("--k", type=int, default=5)
    query.add_argument("--index", type=Path)
    query.add_argument("--mode", choices=("hybrid", "dense", "keyword"), default="hybrid")
    query.add_argument("--doc-type", action="append", help="only these document types (repeatable)")
    query.add_argument("--category", action="append", help="only these product categories (repeatable)")
    query.add_argument("--json", action="store_true")
    load = commands.add_parser("load-shop", help="import products, customers and orders (CSV or JSON; "
                               "docs/shop-data.md)")
    load.add_argument("--from", dest="folder", type=Path, help="folder of shop data (default: the profile's store)")
    commands.add_parser("sync-shop", help="import once from the shop's own database (the profile's sync)")
    return parser


def _load_shop(args, settings) -> int:
    from knowledge.shop_data import load_shop

    folder = args.folder or settings.store_dir
    if folder is None:
        print(f"error: the shop profile {settings.shop} names no `store` folder: pass --from DIR", file=sys.stderr)
        return 1
    return _import_into_store(settings, lambda sessions: load_shop(sessions, folder), f"loaded {folder}")


def _sync_shop(settings) -> int:
    from knowledge.shop_sync import safe_url, sync_shop

    sync = settings.profile.sync
    if sync is None:
        print(f"error: the shop profile {settings.shop} has no `sync` section (url and one query per kind; "
              "see docs/shop-data.md)", file=sys.stderr)
        return 1
    return _import_into_store(settings, lambda sessions: sync_shop(sessions, sync), f"synced from {safe_url(sync.url)}")


def _import_into_store(settings, run, done: str) -> int:
    """Migrate the store, run one import into it, and print what it did (or why nothing was written)."""
    from knowledge.shop_data import ShopDataError
    from shopcore.store.db import make_engine, migrate, session_factory

    migrate(settings.database_url)
    try:
        report = run(session_factory(make_engine(settings.database_url)))
    except ShopDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{done}\n  " + "\n  ".join(report.lines()))
    return 0


def _build(args, settings, embedder) -> int:
    from shopcore.threads import set_threads
    from shopcore.store.db import make_engine, migrate, session_factory
    from knowledge.build import SourceMissing, build_index

    set_threads(settings.threads)  # embedding every chunk: every core

    sessions = None
    if not args.no_catalog:
        migrate(settings.database_url)
        sessions = session_factory(make_engine(settings.database_url))
    try:
        report = build_index(args.source or settings.docs_dirs, args.index or settings.index_dir,
                             embedder, sessions, exact_max=settings.exact_index_max_chunks, full=args.full)
    except SourceMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0


def _query(args, settings, embedder) -> int:
    from knowledge.index import Index, IndexNotBuilt
    from knowledge.retrieval import Retriever

    try:
        index = Index.load(args.index or settings.index_dir)
    except IndexNotBuilt as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    hits = Retriever(index, embedder).search(args.text, args.k, mode=args.mode,
                                             doc_types=args.doc_type, categories=args.category)
    if args.json:
        print(json.dumps([{"doc_id": h.chunk.doc_id, "title": h.chunk.title, "section": h.chunk.section,
                           "score": round(h.score, 4), "similarity": round(h.similarity, 4),
                           "coverage": round(h.coverage, 4), "text": h.chunk.text} for h in hits], indent=2))
        return 0
    for rank, hit in enumerate(hits, 1):
        print(f"{rank}. [{hit.score:.3f}] {hit.chunk.doc_id} — {hit.chunk.heading}")
        print("   " + hit.chunk.text[:200].replace("\n", " "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
