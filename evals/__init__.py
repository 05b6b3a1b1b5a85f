"""Evaluation suites, datasets and benchmarks; `python -m evals run` produces reports/."""
