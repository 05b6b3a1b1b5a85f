"""Retention offers: the shop's policy (policy.yaml, policy.py), recording an offer exactly
once within caps and budget (ledger.py), what happens to it afterwards (lifecycle.py), its
words in the reply (wording.py) and the agent console's views (console.py)."""
