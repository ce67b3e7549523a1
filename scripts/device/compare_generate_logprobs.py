#!/usr/bin/env python3
"""On the GPU machine: random-weight models of real configs (bf16), run by
`arle generate` (the CPU backend by default) and by transformers in float32
on the GPU, compared position by position: prompt logprobs, top-5
alternatives and the greedy continuation (up to the first near-tie). For
the CPU backend's float32 path, where differences are ~1e-5; the CUDA
backend's bf16 check is compare_real_shapes.py.

usage: compare_generate_logprobs.py ARLE CONFIGS_DIR TOKENIZER_DIR WORK_DIR
$ARLE_GENERATE_ARGS is added to every `arle generate` (e.g. "--backend cuda").
"""
import json
import os
import shutil
import subprocess
import sys
import time

import torch
import transformers

from random_model import save_random_model

arle, configs_dir, tok_dir, work = sys.argv[1:5]
torch.backends.cuda.matmul.allow_tf32 = False

MODELS = {
    "qwen3-0.6b": ("Qwen3-0.6B", {}),
    "qwen3-4b": ("Qwen3-4B", {}),
    "llama-3.2-1b": ("Llama-3.2-1B", {}),
    "qwen3-30b-a3b-2layer": ("Qwen3-30B-A3B", {"num_hidden_layers": 2}),
}
PROMPT = [(i * 7919 + 13) % 120000 + 100 for i in range(48)]
NEW = 8

rows = []
for name, (folder, overrides) in MODELS.items():
    d = os.path.join(work, name)
    save_random_model(os.path.join(configs_dir, folder), tok_dir, d, overrides)
    start = time.time()
    extra = os.environ.get("ARLE_GENERATE_ARGS", "").split()
    p = subprocess.run([arle, "--log-level", "info", "generate", *extra, "--model-path", d, "--prompt-ids",
                        ",".join(map(str, PROMPT)), "--max-tokens", str(NEW), "--temperature", "0", "--ignore-eos",
                        "--echo", "--logprobs", "5", "--json"], capture_output=True, text=True)
    seconds = time.time() - start
    if p.returncode != 0:
        rows.append(f"{name}: arle FAILED {p.stderr.strip()[-500:]}")
        continue
    ours = json.loads(p.stdout)
    ref = transformers.AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).cuda().eval()
    ids = PROMPT + ours["token_ids"]
    with torch.no_grad():
        lp = torch.log_softmax(ref(torch.tensor([ids], device="cuda")).logits[0].float(), -1).cpu()
    worst_prompt = worst_top = 0.0
    top_mismatch = 0
    for t in range(1, len(PROMPT)):
        mine = ours["prompt_logprobs"][t]
        worst_prompt = max(worst_prompt, abs(mine["logprob"] - lp[t - 1, PROMPT[t]].item()))
        ref_top = torch.topk(lp[t - 1], 6)
        for j, alt in enumerate(mine["top_logprobs"]):
            worst_top = max(worst_top, abs(alt["logprob"] - lp[t - 1, alt["token_id"]].item()))
            gap = min(abs(ref_top.values[j] - ref_top.values[j + 1]).item(),
                      abs(ref_top.values[j] - ref_top.values[j - 1]).item() if j else 1.0)
            if alt["token_id"] != ref_top.indices[j].item() and gap > 1e-3:
                top_mismatch += 1
    greedy_ok = 0
    for s, tok in enumerate(ours["token_ids"]):
        row = lp[len(PROMPT) - 1 + s]
        v, i = torch.topk(row, 2)
        if (v[0] - v[1]).item() < 1e-3:
            break
        if i[0].item() != tok:
            break
        greedy_ok += 1
    log_line = [l for l in p.stderr.splitlines() if "decode" in l]
    rows.append(f"{name}: max|dlogprob| prompt {worst_prompt:.2e}, top-5 {worst_top:.2e}, top-5 rank mismatches "
                f"{top_mismatch}, greedy {greedy_ok}/{NEW} equal before any near-tie, wall {seconds:.1f}s | "
                f"{log_line[-1].split('] ')[-1] if log_line else ''}")
    del ref
    torch.cuda.empty_cache()
    shutil.rmtree(d)
print("\n".join(rows))
