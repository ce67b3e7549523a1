#!/usr/bin/env python3
"""On the GPU machine: `arle eval mmlu` against transformers on the same
requests. Runs arle (CUDA) on QUESTIONS MMLU questions (one per subject,
--record-tokens), then scores every choice's recorded [context,
continuation] token ids with transformers in bf16 (and float32, to show how
far bf16 itself strays), and checks the issue's criteria: per-choice
log-likelihoods within 0.05 nats of bf16, and the same predicted letter
wherever transformers' top-2 gap exceeds 0.1. Also times transformers
scoring each question's four choices as one padded batch, a rough peer for
arle's questions/s on the same questions. Exits 1 when a check fails.

usage: eval_vs_transformers.py ARLE_BINARY MODEL_DIR OUT_DIR [QUESTIONS]
"""
import json
import os
import subprocess
import sys
import time

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


def score(model, record):
    """Each choice's summed continuation logprob, the four choices in one right-padded batch."""
    pairs = record["tokens"]
    longest = max(len(c) + len(x) for c, x in pairs)
    ids = torch.zeros((len(pairs), longest), dtype=torch.long, device="cuda")
    mask = torch.zeros_like(ids)
    for row, (context, continuation) in enumerate(pairs):
        ids[row, :len(context) + len(continuation)] = torch.tensor(context + continuation)
        mask[row, :len(context) + len(continuation)] = 1
    logprobs = torch.log_softmax(model(ids, attention_mask=mask).logits.float(), dim=-1)
    return [sum(logprobs[row, len(context) - 1 + i, t].item() for i, t in enumerate(continuation))
            for row, (context, continuation) in enumerate(pairs)]


references = {}
for name, dtype in (("bf16", torch.bfloat16), ("fp32", torch.float32)):
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).cuda().eval()
    with torch.inference_mode():
        score(model, report["records"][0])  # warm-up
        torch.cuda.synchronize()
        start = time.perf_counter()
        references[name] = [score(model, record) for record in report["records"]]
        torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    print(f"transformers {name}: {len(report['records'])} questions in {seconds:.2f} s "
          f"({len(report['records']) / seconds:.1f} questions/s, a question's choices batched)")
    del model
    torch.cuda.empty_cache()

worst = {"bf16": 0.0, "fp32": 0.0}
bf16_vs_fp32, flips, compared, letters = 0.0, 0, 0, 0
for q, record in enumerate(report["records"]):
    for name in worst:
        for ours, ref in zip(record["loglikelihoods"], references[name][q]):
            worst[name] = max(worst[name], abs(ours - ref))
    for a, b in zip(references["bf16"][q], references["fp32"][q]):
        bf16_vs_fp32 = max(bf16_vs_fp32, abs(a - b))
    compared += len(record["loglikelihoods"])
    reference = references["bf16"][q]
    ranked = sorted(reference, reverse=True)
    if ranked[0] - ranked[1] > 0.1:
        letters += 1
        if "ABCD"[reference.index(ranked[0])] != record["prediction"]:
            flips += 1
timing = report["timing"]
print(f"arle: {timing['questions']} questions in {timing['seconds']:.2f} s ({timing['questions_per_second']:.1f}/s, "
      f"including its warm-up)")
print(f"{len(report['records'])} questions, {compared} choices: worst |arle - transformers bf16| = {worst['bf16']:.4f} "
      f"nats (bound 0.05); |arle - transformers fp32| = {worst['fp32']:.4f}; "
      f"|transformers bf16 - fp32| = {bf16_vs_fp32:.4f}")
print(f"letters compared where transformers bf16's top-2 gap > 0.1: {letters}, differing: {flips}")
sys.exit(0 if worst["bf16"] <= 0.05 and flips == 0 else 1)
