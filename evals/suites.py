"""The registry of eval suites: name -> function returning a SuiteResult."""

from evals.retrieval import retrieval_suite
from evals.retrieval_bench import retrieval_bench_suite

SUITES = {
    "retrieval": retrieval_suite,
    "retrieval_bench": retrieval_bench_suite,
}
