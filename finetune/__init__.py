"""LoRA fine-tuning on the shop's own documents, orders and agents' corrections.

    python -m finetune data     # build the SFT set (train and held-out) and print its card
    python -m finetune train    # train a LoRA adapter into the registry
    python -m finetune list     # adapters in the registry
    python -m finetune use NAME # serve NAME (or `none`); a running service switches without a restart
    python -m finetune merge NAME DIR   # the base model with NAME merged in, for export
    python -m finetune export NAME --format peft|gguf   # for vLLM --lora-modules / llama.cpp --lora
"""

import shopcore  # noqa: F401  (sets the OpenMP defaults before torch loads)
