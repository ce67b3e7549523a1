#!/usr/bin/env python3
"""On the GPU machine: how transformers itself does in bf16 against the
fixtures' float32 references, under the CUDA issue's criteria. It answers
whether a top-1 flip at a position with a reference margin above 0.05 is a
bug or what bf16 does on these (random-weight, large-logit) fixtures.

usage: bf16_baseline.py FIXTURES_DIR NAME...
"""
import json
import sys

import torch
import transformers
from safetensors.torch import load_file

root, names = sys.argv[1], sys.argv[2:]
torch.backends.cuda.matmul.allow_tf32 = False
for name in names:
    d = f"{root}/models/{name}"
    ref = json.load(open(f"{d}/reference.json"))
    tensors = load_file(f"{d}/reference.safetensors")
    model = transformers.AutoModelForCausalLM.from_pretrained(d, dtype=torch.bfloat16).cuda().eval()
    flips = compared = greedy_ok = greedy_steps = 0
    worst_l2 = 0.0
    flip_margins = []
    for i, c in enumerate(ref["cases"]):
        ids = c["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([ids], device="cuda")).logits[0].float().cpu()
        top_ids = tensors[f"case{i}.topk_ids"].reshape(len(ids), 16)
        top_logits = tensors[f"case{i}.topk_logits"].reshape(len(ids), 16)
        for t in range(len(ids)):
            margin = (top_logits[t, 0] - top_logits[t, 1]).item()
            if margin <= 0.05:
                continue
            compared += 1
            if logits[t].argmax().item() != top_ids[t, 0].item():
                flips += 1
                flip_margins.append(round(margin, 3))
        last = tensors[f"case{i}.last_logits"].float()
        worst_l2 = max(worst_l2, ((logits[-1] - last).norm() / last.norm()).item())
        cur = list(ids)
        for step, (want, margin) in enumerate(zip(c["greedy_ids"], c["greedy_top2_margin"])):
            if margin < 0.05:
                break
            with torch.no_grad():
                nxt = model(torch.tensor([cur], device="cuda")).logits[0, -1].argmax().item()
            greedy_steps += 1
            if nxt != want:
                break
            greedy_ok += 1
            cur.append(nxt)
    print(f"{name}: transformers bf16: top-1 flips {flips}/{compared} (reference margins {flip_margins[:8]}), "
          f"worst last-logits rel L2 {worst_l2:.2e}, greedy {greedy_ok}/{greedy_steps} steps before a miss")
