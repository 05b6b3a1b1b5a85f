"""SQL store: the schema (models), engines and short sessions (db), and migrations."""
