#!/usr/bin/env python3
"""On the GPU machine (torch + transformers there): write random-weight
checkpoints of real configs with transformers' own save_pretrained, sharded,
and a JSON of what Python counts in them, so `arle inspect` can be checked
against files transformers wrote itself.

usage: make_random_checkpoints.py CONFIGS_DIR OUT_DIR
"""
import json
import os
import struct
import sys

import torch
import transformers

configs_dir, out_dir = sys.argv[1], sys.argv[2]

# name -> (config folder, overrides that shrink the model but keep its layout)
MODELS = {
    "qwen3-0.6b": ("Qwen3-0.6B", {}),
    "qwen3.5-0.8b-multimodal": ("Qwen3.5-0.8B", {}),
    "qwen3-moe-2layer": ("Qwen3-30B-A3B", {"num_hidden_layers": 2, "num_experts": 16}),
    "qwen3.5-moe-4layer-multimodal": ("Qwen3.5-35B-A3B", {"text_config": {"num_hidden_layers": 4, "num_experts": 16,
                                                                          "layer_types": ["linear_attention"] * 3 + ["full_attention"]},
                                                          "vision_config": {"depth": 2}}),
    "llama-3.2-1b": ("Llama-3.2-1B", {}),
}


def merged(base, overrides):
    for k, v in overrides.items():
        if isinstance(v, dict):
            base[k] = merged(base.get(k, {}), v)
        else:
            base[k] = v
    return base


def count(folder):
    params = tensors = nbytes = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".safetensors"):
            continue
        with open(os.path.join(folder, name), "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        header.pop("__metadata__", None)
        for info in header.values():
            p = 1
            for d in info["shape"]:
                p *= d
            params += p
            tensors += 1
            nbytes += info["data_offsets"][1] - info["data_offsets"][0]
    return {"parameters": params, "tensors": tensors, "bytes": nbytes}


summary = {}
torch.manual_seed(0)


def build(name, config_name, overrides):
    cfg_json = merged(json.load(open(os.path.join(configs_dir, config_name, "config.json"))), overrides)
    cfg = transformers.AutoConfig.for_model(**cfg_json)
    model_cls = transformers.AutoModelForImageTextToText if "vision_config" in cfg_json else transformers.AutoModelForCausalLM
    model = model_cls.from_config(cfg, dtype=torch.bfloat16)
    folder = os.path.join(out_dir, name)
    model.save_pretrained(folder, max_shard_size="300MB")
    summary[name] = count(folder)
    summary[name]["torch_parameters"] = sum(p.numel() for p in model.parameters())
    summary[name]["files"] = sorted(os.listdir(folder))
    print(name, summary[name], flush=True)
    del model



for name, (config_name, overrides) in MODELS.items():
    try:
        build(name, config_name, overrides)
    except Exception as e:  # keep going: one architecture's failure must not hide the others
        print(name, "FAILED to build:", repr(e)[:500], flush=True)

json.dump(summary, open(os.path.join(out_dir, "summary.json"), "w"), indent=1)
