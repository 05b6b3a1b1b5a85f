"""Command line for the desk.

    python -m chatbot ask "TEXT" [--customer ID] [--conversation ID] [--index DIR] [--json]
    python -m chatbot setup        # migrate, load the demo shop, convert the model, build the index
    python -m chatbot migrate      # bring the database schema up to date
    python -m chatbot makemigration "what changed"
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from chatbot.settings import SettingsError, get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbot", description="LLM customer-service desk")
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="one turn through the full pipeline")
    ask.add_argument("text")
    ask.add_argument("--customer", type=int, help="answer as this signed-in customer id")
    ask.add_argument("--conversation", help="continue this conversation id")
    ask.add_argument("--index", type=Path, help="knowledge index folder")
    ask.add_argument("--json", action="store_true", help="print the reply as JSON, not streamed")
    commands.add_parser("setup", help="prepare everything `make run` needs; skips what is done")
    commands.add_parser("migrate", help="upgrade the database schema")
    make = commands.add_parser("makemigration", help="autogenerate a migration from the models")
    make.add_argument("message")
    args = parser.parse_args(argv)

    try:
        settings = get_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "ask":
        return _ask(args, settings)
    if args.command == "setup":
        from chatbot.offers.policy import PolicyError
        from chatbot.risk.lexicon import CuesError
        from chatbot.setup import setup

        try:
            setup(settings)
        except (PolicyError, CuesError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    from alembic import command

    from chatbot.store.db import alembic_config, migrate

    if args.command == "migrate":
        migrate(settings.database_url)
    else:
        command.revision(alembic_config(settings.database_url), message=args.message, autogenerate=True)
    return 0


def _ask(args, settings) -> int:
    from chatbot.desk import build_desk
    from chatbot.errors import DeskError
    from chatbot.offers.policy import PolicyError
    from chatbot.risk.lexicon import CuesError
    from chatbot.pipeline import turn
    from chatbot.schemas import ChatRequest, DoneEvent, TokenEvent
    from knowledge.index import IndexNotBuilt

    if args.index:
        settings = settings.model_copy(update={"index_dir": args.index})
    try:
        desk = build_desk(settings)
        request = ChatRequest(args.text, args.conversation, args.customer, channel="cli")
        for event in turn(request, desk):
            if isinstance(event, TokenEvent) and not args.json:
                print(event.text, end="", flush=True)
            elif isinstance(event, DoneEvent):
                reply = event.reply
    except (DeskError, IndexNotBuilt, PolicyError, CuesError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(reply.to_json(), indent=2))
    else:
        print()
        for n, source in enumerate(reply.sources, 1):
            print(f"  [{n}] {source.title} ({source.doc_id})")
        print(f"  conversation {reply.conversation_id}, {reply.latency_ms / 1000:.1f} s")
    return 0 if reply.state in ("ok", "agent") else 1


if __name__ == "__main__":
    sys.exit(main())
