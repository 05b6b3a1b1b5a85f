"""The registry of eval suites: name -> function returning a SuiteResult."""

from evals.answers import answers_suite
from evals.calibration import calibration_suite
from evals.conversations import conversations_suite
from evals.finetune import finetune_suite
from evals.latency import latency_suite
from evals.load import load_suite, stack_suite
from evals.offers import offers_suite
from evals.onboarding import onboarding_suite
from evals.relevance import relevance_suite
from evals.resilience import resilience_suite
from evals.retrieval import retrieval_suite
from evals.retrieval_bench import retrieval_bench_suite
from evals.risk import risk_suite
from evals.second_shop import second_shop_suite

SUITES = {
    "retrieval": retrieval_suite,
    "relevance": relevance_suite,  # the relevance weights, refitted on one shop, checked on another
    "answers": answers_suite,
    "latency": latency_suite,
    "retrieval_bench": retrieval_bench_suite,
    "risk": risk_suite,
    "offers": offers_suite,
    "load": load_suite,
    "load_stack": stack_suite,  # the multi-process rig (evals/stack.py): PostgreSQL, Redis, llama.cpp
    "finetune": finetune_suite,
    "second_shop": second_shop_suite,
    "resilience": resilience_suite,
    "conversations": conversations_suite,
    "calibration": calibration_suite,
    "onboarding": onboarding_suite,
}
