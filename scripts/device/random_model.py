#!/usr/bin/env python3
"""On the GPU machine: a random-weight bf16 checkpoint of a real config,
written by transformers' own save_pretrained, with a Qwen tokenizer beside it.

usage: random_model.py CONFIG_DIR TOKENIZER_DIR OUT_DIR
"""
import glob
import json
import shutil
import sys

import torch
import transformers

config_dir, tokenizer_dir, out = sys.argv[1:4]
cfg = json.load(open(f"{config_dir}/config.json"))
torch.manual_seed(0)
model = transformers.AutoModelForCausalLM.from_config(transformers.AutoConfig.for_model(**cfg), dtype=torch.bfloat16)
model.save_pretrained(out)
for f in glob.glob(f"{tokenizer_dir}/tokenizer*"):
    shutil.copy(f, out)
print(f"{out}: {sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters")
