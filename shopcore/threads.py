"""CPU threads for torch work, asked for per thread.

The package sets OMP_NUM_THREADS=1 before torch loads (shopcore/__init__.py), so every
thread that runs torch defaults to one; the generation worker and commands that do bulk
work in their main thread (indexing, training) ask for more here. Why one team matters is
in chatbot/llm/cpu.py.
"""

from __future__ import annotations

import os

import torch


def set_threads(threads: int = 0) -> None:
    """Use `threads` CPU threads for torch in the calling thread (0: one per core)."""
    torch.set_num_threads(threads or os.cpu_count() or 1)
