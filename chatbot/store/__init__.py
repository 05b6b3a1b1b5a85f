"""SQL store: the schema (models), engines and short sessions (db), migrations, and the
reads and writes the pipeline makes (turns)."""
