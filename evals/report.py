"""Print a suite's table and write `reports/<suite>.md` with its PNG plots."""

from __future__ import annotations

from pathlib import Path

from evals.suite import SuiteResult

REPORTS_DIR = Path(__file__).resolve().parent.parent / "reports"


def table(rows: list[dict]) -> str:
    """A Markdown table of rows (all rows share the first row's keys)."""
    if not rows:
        return "(no rows)"
    keys = list(rows[0])
    cell = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(row.get(k, "")) for k in keys) + " |" for row in rows]
    return "\n".join(lines)


def write_report(result: SuiteResult, folder: Path = REPORTS_DIR) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    parts = [f"# {result.suite} suite", "", "Re-run with `python -m evals run --suite "
             f"{result.suite}`.", "", table(result.rows), ""]
    parts += ["## Metrics", "", table([{"metric": k, "value": v} for k, v in result.metrics.items()]), ""]
    parts += result.notes
    for stem, figure in result.plots.items():
        png = folder / f"{result.suite}-{stem}.png"
        figure.savefig(png, dpi=110, bbox_inches="tight")
        parts += ["", f"![{stem}]({png.name})"]
    path = folder / f"{result.suite}.md"
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path
