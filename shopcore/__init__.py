"""The bottom layer: what every other package may use and which knows none of them.

    shopcore.settings   the one settings object (CHATBOT_* variables and .env)
    shopcore.schemas    small frozen values passed between steps (Evidence, Risk, Offer, Reply, events)
    shopcore.store      the SQL store: models, engines and sessions, Alembic migrations
    shopcore.threads    how many CPU threads torch uses, per thread

Above it, in order: `knowledge` (documents, index, retrieval), `chatbot` (the desk), and
`finetune` and `evals` side by side. A lower layer never imports a higher one; the
contract in pyproject.toml ([tool.importlinter]) is checked by `make test`.
"""

import os

# One OpenMP thread team per process, the generation worker's (see chatbot/llm/cpu.py):
# set before torch loads, so threads that only embed a query stay single-threaded.
os.environ.setdefault("OMP_NUM_THREADS", "1")
