"""The demo shop, Ridgeline Outfitters: a generator for its documents, catalog, customers and
orders (`python -m knowledge.demo_shop`), whose output is shipped in knowledge/demo/."""
