"""Evaluation suites, datasets and benchmarks; `python -m evals run` produces reports/."""

import shopcore  # noqa: F401  (sets the OpenMP defaults before torch loads)
