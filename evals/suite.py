"""What every eval suite returns, and the shared dev-set loader."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
DATA_FILE_OFFERS = DATA_DIR / "offer_conversations.jsonl"
RISK_MESSAGES = DATA_DIR / "risk" / "messages.jsonl"  # the default of CHATBOT_RISK_DATA


@dataclass
class SuiteResult:
    suite: str
    metrics: dict[str, float]
    rows: list[dict] = field(default_factory=list)  # the printed table, one dict per row
    notes: list[str] = field(default_factory=list)  # extra Markdown for the report
    plots: dict[str, object] = field(default_factory=dict)  # file stem -> matplotlib figure
    details: list[dict] = field(default_factory=list)  # per-example outcomes, for debugging

    def to_json(self) -> dict:
        return {"suite": self.suite, "metrics": self.metrics, "rows": self.rows}


def load_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def dev_questions() -> list[dict]:
    return load_jsonl(DATA_DIR / "dev_questions.jsonl")
