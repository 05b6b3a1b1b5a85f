"""Run evaluation suites, print their tables and write Markdown reports under reports/.

    python -m evals run [--suite NAME ...] [--json] [--details DIR]
    python -m evals list
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from evals.report import table, write_report
from evals.suites import SUITES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run suites (default: all)")
    run.add_argument("--suite", action="append", choices=sorted(SUITES), help="repeatable")
    run.add_argument("--json", action="store_true", help="print one JSON object per suite")
    run.add_argument("--details", type=Path, metavar="DIR",
                     help="also write each suite's per-example outcomes to DIR/SUITE.jsonl")
    commands.add_parser("list", help="list the suites")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, suite in SUITES.items():
            print(f"{name:12} {(suite.__doc__ or '').strip().splitlines()[0]}")
        return 0
    for name in args.suite or list(SUITES):
        result = SUITES[name]()
        report = write_report(result)
        if args.details is not None:
            args.details.mkdir(parents=True, exist_ok=True)
            with open(args.details / f"{name}.jsonl", "w", encoding="utf-8") as out:
                out.writelines(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in result.details)
        if args.json:
            print(json.dumps(result.to_json()))
        else:
            print(f"\n== {name} ==\n{table(result.rows)}\nreport: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
