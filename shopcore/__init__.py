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
# How long an idle OpenMP thread spins before it sleeps (libgomp reads it as torch loads).
# libgomp's default, 300,000 spins, wins nothing on a quiet machine and collapses decoding
# (19 -> 1 token/s on 2 cores) when another process keeps a core busy: the spinning threads
# take the time slices the working one needs. 10,000 keeps the quiet speed and degrades to
# about a third; CHATBOT_THREADS=1 or OMP_WAIT_POLICY=PASSIVE trade quiet speed for less
# (reports/latency.md measures each).
os.environ.setdefault("GOMP_SPINCOUNT", "10000")
