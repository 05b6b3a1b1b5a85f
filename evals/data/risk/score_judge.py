"""Read every labeled message (and the cross-check set) with the risk judge and keep the
readings in evals/data/risk/judge-<model>-...npz, so training and the risk suite need not
run the language model over ~5,000 messages (20 to 40 minutes on 2 CPU cores).

    python evals/data/risk/score_judge.py

Resumable: readings already kept are reused; it saves after every chunk of 160.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

HERE = Path(__file__).resolve().parent


def main() -> None:
    from chatbot.risk.judge import Judge, KeptReadings
    from shopcore.settings import get_settings

    texts = []
    for name in ("messages.jsonl", "crosscheck.jsonl"):
        path = HERE / name
        if path.exists():
            texts += [json.loads(line)["text"] for line in path.open(encoding="utf-8") if line.strip()]
    settings = get_settings()
    judge = Judge.load(settings)
    kept = KeptReadings(HERE, judge.key)
    print(f"{len(texts)} messages, {len(kept.missing(texts))} to read with {judge.key}", flush=True)
    kept.fill(judge, texts)


if __name__ == "__main__":
    main()
