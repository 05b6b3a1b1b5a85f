"""How the model decodes fast on a CPU: int8 weights, float32 attention, one thread team.

Decoding one token reads every weight once, so on a CPU its speed is set by the bytes the
weights take and by the fixed cost of each of the step's few hundred small operations.
Measured on 2 cores with SmolLM2-135M and a 385-token prompt (a decode step, ms):
float32 40, bf16 28.5, bf16 with int8 weights 16.8, and with float32 attention 13.3.

- Int8 weights: each Linear layer's weight is int8 with one scale per output channel (a
  quarter of float32's bytes), multiplied by torch's int8-weight kernel with bf16
  activations. Activations are never quantized, so a row's answer does not depend on the
  other answers in its batch (unlike dynamic int8, CHATBOT_QUANTIZE=int8); bf16 rounding
  can still differ with the batch's size, as on a GPU. A prefill multiplies many rows at
  once, where the kernel is slower than a bf16 matmul, so there the weight is widened.
- Float32 attention: torch's CPU attention kernel is ~5x slower in bf16 than in float32
  for one query row; the attention alone is computed in float32.
- One OpenMP thread team: every thread that runs a parallel torch operation gets its own
  OpenMP team, and once teams outnumber the cores, OpenMP stops spinning between
  operations and each of a step's operations waits to wake its threads (a decode step in
  the generation worker took 24 ms instead of 12). So the `chatbot` package sets
  OMP_NUM_THREADS=1 before torch loads, and only the generation worker, or a command
  doing bulk work in its main thread (indexing, training), asks for more with `shopcore.threads.set_threads`.
"""

from __future__ import annotations

import torch

# More rows than this (a prefill) multiply through a widened weight; fewer (decode steps).
KERNEL_MAX_ROWS = 16
FLOAT32_ATTENTION = "sdpa_float32"


class Int8WeightLinear(torch.nn.Module):
    """A Linear layer whose weight is int8 with a per-output-channel scale."""

    def __init__(self, linear: torch.nn.Linear, dtype: torch.dtype):
        super().__init__()
        weight = linear.weight.detach().float()
        scale = weight.abs().amax(dim=1).clamp(min=1e-12) / 127
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.register_buffer("weight", torch.round(weight / scale[:, None]).to(torch.int8))
        self.register_buffer("scale", scale.to(dtype))
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().to(dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features)
        if rows.shape[0] > KERNEL_MAX_ROWS:
            out = torch.nn.functional.linear(rows, self.weight.to(x.dtype) * self.scale[:, None])
        else:
            out = torch.ops.aten._weight_int8pack_mm(rows.contiguous(), self.weight, self.scale)
        out = out.reshape(*x.shape[:-1], self.out_features)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 weight"


def int8_weights(model: torch.nn.Module) -> torch.nn.Module:
    """Replace every Linear layer of a bf16 model (the output head too) and compute its
    attention in float32, in place; return the model."""
    dtype = next(model.parameters()).dtype
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear):
                setattr(module, name, Int8WeightLinear(child, dtype))
    if model.config._attn_implementation == "sdpa":
        _register_float32_attention()
        model.set_attn_implementation(FLOAT32_ATTENTION)
    return model


def _register_float32_attention() -> None:
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    def sdpa_float32(module, query, key, value, attention_mask, **kwargs):
        out, weights = sdpa_attention_forward(module, query.float(), key.float(), value.float(),
                                              attention_mask, **kwargs)
        return out.to(query.dtype), weights

    AttentionInterface.register(FLOAT32_ATTENTION, sdpa_float32)
    # Masks as for sdpa: padding and a cached prefix need them (an unknown name gets none).
    ALL_MASK_ATTENTION_FUNCTIONS.register(FLOAT32_ATTENTION, sdpa_mask)
