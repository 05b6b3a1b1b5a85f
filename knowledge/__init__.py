"""Shop knowledge: documents in (files and the SQL catalog), chunks, embeddings, the FAISS
index, and retrieval of evidence for an answer."""

import shopcore  # noqa: F401  (sets the OpenMP defaults before torch loads)
