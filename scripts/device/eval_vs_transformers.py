#!/usr/bin/env python3
"""On the GPU machine: `arle eval mmlu` against transformers on the same
requests. Runs arle (CUDA) on QUESTIONS MMLU questions (one per subject,
--record-tokens), then scores every choice's recorded [context,
continuation] token ids with transformers in bf16, and checks the issue's
criteria: per-choice log-likelihoods within 0.05 nats, and the same
predicted letter wherever transformers' top-2 gap exceeds 0.1. Exits 1 when
a check fails.

usage: eval_vs_transformers.py ARLE_BINARY MODEL_DIR OUT_DIR [QUESTIONS]
"""
import json
import os
import subprocess
import sys

import torch
import transformers

arle, model_dir, out_dir = sys.argv[1:4]
questions = int(sys.argv[4]) if len(sys.argv) > 4 else 50
subjects = sorted(f[:-len("_test.csv")] for f in os.listdir("assets/eval/mmlu/test"))[:questions]
report_path = os.path.join(out_dir, "mmlu_cross_check.json")
subprocess.run([arle, "--log-level", "warn", "eval", "mmlu", "--model-path", model_dir, "--backend", "cuda",
                "--subjects", ",".join(subjects), "--limit", "1", "--record-tokens", "--output", report_path],
               check=True)
report = json.load(open(report_path))

model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).cuda().eval()
worst, flips, compared, letters = 0.0, 0, 0, 0
with torch.inference_mode():
    for record in report["records"]:
        reference = []
        for context, continuation in record["tokens"]:
            ids = torch.tensor([context + continuation], device="cuda")
            logprobs = torch.log_softmax(model(ids).logits[0].float(), dim=-1)
            total = sum(logprobs[len(context) - 1 + i, t].item() for i, t in enumerate(continuation))
            reference.append(total)
        for ours, ref in zip(record["loglikelihoods"], reference):
            worst = max(worst, abs(ours - ref))
            compared += 1
        ranked = sorted(reference, reverse=True)
        if ranked[0] - ranked[1] > 0.1:
            letters += 1
            if "ABCD"[reference.index(ranked[0])] != record["prediction"]:
                flips += 1
print(f"{len(report['records'])} questions, {compared} choices: worst |arle - transformers bf16| = {worst:.4f} nats "
      f"(bound 0.05); letters compared where transformers' top-2 gap > 0.1: {letters}, differing: {flips}")
sys.exit(0 if worst <= 0.05 and flips == 0 else 1)
