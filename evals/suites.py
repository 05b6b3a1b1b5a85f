"""The registry of eval suites: name -> function returning a SuiteResult."""

from evals.load import load_suite
from evals.retrieval import retrieval_suite

SUITES = {
    "retrieval": retrieval_suite,
    "load": load_suite,
}
