"""A randomly initialised two-layer Llama with the embedded SmolLM2's tokenizer: the real
transformers code paths in milliseconds, for tests and benchmarks about plumbing (HTTP,
streaming, storage, limits) rather than answer quality. Its answers are noise."""

from __future__ import annotations

from pathlib import Path


def build_tiny_llama(tokenizer_dir: str | Path, folder: Path, seed: int = 0) -> Path:
    """Save a random tiny Llama and the tokenizer to `folder`; return it."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
