#!/usr/bin/env python3
"""On the GPU machine: a random-weight bf16 checkpoint of a real config,
written by transformers' own save_pretrained, with a Qwen tokenizer beside it.

usage: random_model.py CONFIG_DIR TOKENIZER_DIR OUT_DIR
(compare_real_shapes.py and compare_generate_logprobs.py import save_random_model.)
"""
import json
import os
import shutil
import sys

import torch
import transformers


def save_random_model(config_dir, tokenizer_dir, out, overrides=None):
    """Seed 0, initialised on the GPU (on the CPU, 4B takes minutes); returns the parameter count."""
    cfg = json.load(open(os.path.join(config_dir, "config.json")))
    if "text_config" in cfg:  # a multimodal release (Qwen3.5): its text decoder alone
        cfg = {"tie_word_embeddings": cfg.get("tie_word_embeddings", False), **cfg["text_config"]}
    cfg.update(overrides or {})
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = transformers.AutoModelForCausalLM.from_config(transformers.AutoConfig.for_model(**cfg),
                                                              dtype=torch.bfloat16)
    model.save_pretrained(out)
    count = sum(p.numel() for p in model.parameters())
    del model
    torch.cuda.empty_cache()
    for f in os.listdir(tokenizer_dir):
        if f.startswith("tokenizer") or f == "special_tokens_map.json":
            shutil.copy(os.path.join(tokenizer_dir, f), out)
    return count


if __name__ == "__main__":
    config_dir, tokenizer_dir, out = sys.argv[1:4]
    print(f"{out}: {save_random_model(config_dir, tokenizer_dir, out) / 1e6:.0f}M parameters")
