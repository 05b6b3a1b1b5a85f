"""Churn risk: the cue lexicon (cues.yaml, lexicon.py), the served language model as a judge
(judge.py), the trained model that combines them with a head on the sentence embedding
(model.py), what the store knows about the conversation (signals.py), scoring a turn
(scoring.py) and the agent console's view (console.py). The labeled messages, their card
and the judge's kept readings live in evals/data/risk/."""
