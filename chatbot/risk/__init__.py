"""Churn risk: the cue lexicon (cues.yaml, lexicon.py), the trained model (model.py), what
the store knows about the conversation (signals.py), scoring a turn (scoring.py) and the
agent console's view (console.py). Training data and its card live in data/."""
