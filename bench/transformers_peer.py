#!/usr/bin/env python3
"""The transformers peer for docs/benchmarks.md, on the GPU machine: the same
random-weight checkpoint and workloads as `arle bench`, through
AutoModelForCausalLM.generate in bf16 with the default dynamic cache (eager,
no torch.compile: transformers' static cache compiles once per cache length).

usage: transformers_peer.py MODEL_DIR latency|ttft|throughput [--batch 128]
Prints one JSON line.
"""
import argparse
import json
import random
import statistics
import time

import torch
import transformers

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("workload", choices=["latency", "ttft", "throughput"])
parser.add_argument("--batch", type=int, default=128)
parser.add_argument("--prompts", type=int, default=256)
args = parser.parse_args()

torch.manual_seed(0)
model = transformers.AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16).cuda().eval()
vocab = model.config.vocab_size
rng = random.Random(0)


def ids(n):
    return [rng.randrange(3, vocab) for _ in range(n)]


def timed(fn):
    torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return time.perf_counter() - start, out


def generate(batch, new_tokens, mask=None):
    return model.generate(batch, attention_mask=mask, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                          do_sample=False, pad_token_id=0)


with torch.inference_mode():
    if args.workload == "ttft":
        result = {}
        for n in (1024, 4096):
            prompt = torch.tensor([ids(n)], device="cuda")
            generate(prompt, 1)
            times = [timed(lambda: generate(prompt, 1))[0] for _ in range(3)]
            result[f"ttft_ms_{n}"] = statistics.median(times) * 1000
            result[f"prefill_tokens_per_second_{n}"] = n / statistics.median(times)
    elif args.workload == "latency":
        prompt = torch.tensor([ids(512)], device="cuda")
        generate(prompt, 16)
        ttft = statistics.median(timed(lambda: generate(prompt, 1))[0] for _ in range(3))
        total = statistics.median(timed(lambda: generate(prompt, 256))[0] for _ in range(3))
        tpot = (total - ttft) / 255
        result = {"ttft_ms": ttft * 1000, "tpot_ms": tpot * 1000, "decode_tokens_per_second": 1 / tpot}
    else:
        # nano-vllm's workload: input and output lengths uniform in 100..1024.
        work = [(ids(rng.randint(100, 1024)), rng.randint(100, 1024)) for _ in range(args.prompts)]
        work.sort(key=lambda w: len(w[0]))
        useful = 0
        wall = 0.0
        tokenizer_pad = 0
        for b in range(0, len(work), args.batch):
            chunk = work[b:b + args.batch]
            width = max(len(p) for p, _ in chunk)
            # Left padding, as generate expects for decoder-only models.
            batch = torch.tensor([[tokenizer_pad] * (width - len(p)) + p for p, _ in chunk], device="cuda")
            mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p, _ in chunk], device="cuda")
            new = max(n for _, n in chunk)
            seconds, _ = timed(lambda: generate(batch, new, mask))
            wall += seconds
            useful += sum(n for _, n in chunk)
        result = {"output_tokens": useful, "wall_seconds": wall, "output_tokens_per_second": useful / wall,
                  "mode": f"static batches of {args.batch}, padded to the batch's longest output"}
print(json.dumps({"peer": "transformers " + transformers.__version__, "workload": args.workload, **result}))
