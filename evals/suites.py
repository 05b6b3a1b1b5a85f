"""The registry of eval suites: name -> function returning a SuiteResult."""

from evals.retrieval import retrieval_suite

SUITES = {
    "retrieval": retrieval_suite,
}
