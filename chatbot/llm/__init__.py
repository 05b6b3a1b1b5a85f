"""The causal LM: finding and loading weights (loading), and producing tokens (generation)."""
