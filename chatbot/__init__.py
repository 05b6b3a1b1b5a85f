"""The shop customer-service desk."""

import os

# One OpenMP thread team per process, the generation worker's (see chatbot/llm/cpu.py):
# set before torch loads, so threads that only embed a query stay single-threaded.
os.environ.setdefault("OMP_NUM_THREADS", "1")
