#!/usr/bin/env python3
"""On the GPU machine: random-weight models of real configs (bf16 weights),
each with transformers' float32 references in the fixtures' format
(reference.json + reference.safetensors; tests/fixtures/README.md), then
checked on the CUDA backend by `cuda_model_test --gtest_filter=CudaRealShapes*`
under the same rules as the fixtures. Transformers' own bf16 run is scored
under those rules too, as the baseline for what bf16 rounding does.

usage: compare_real_shapes.py CUDA_MODEL_TEST CONFIGS_DIR TOKENIZER_DIR WORK_DIR
$ARLE_REAL_SHAPES picks a comma-separated subset of the models. Exits with
the test's status.
"""
import json
import os
import subprocess
import sys
import time

import torch
import transformers
from safetensors.torch import save_file

from random_model import save_random_model

test_binary, configs_dir, tok_dir, work = sys.argv[1:5]
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

MODELS = {
    "qwen3-0.6b": ("Qwen3-0.6B", {}),
    "qwen3-4b": ("Qwen3-4B", {}),
    "llama-3.2-1b": ("Llama-3.2-1B", {}),
    "qwen3-30b-a3b-2layer": ("Qwen3-30B-A3B", {"num_hidden_layers": 2}),
    "qwen3.5-0.8b": ("Qwen3.5-0.8B", {}),
    "qwen3.5-4b": ("Qwen3.5-4B", {}),
}
if os.environ.get("ARLE_REAL_SHAPES"):  # a comma-separated subset
    wanted, known = os.environ["ARLE_REAL_SHAPES"].split(","), ", ".join(MODELS)
    MODELS = {k: v for k, v in MODELS.items() if k in wanted}
    if not MODELS:
        sys.exit(f"ARLE_REAL_SHAPES={','.join(wanted)} names none of: {known}")
# Token ids below every model's vocabulary (Llama's is 128k): a short prompt
# and one that spans many KV pages and prefill chunks.
CASES = [
    {"name": "ids48", "input_ids": [(i * 7919 + 13) % 120000 + 100 for i in range(48)]},
    {"name": "ids700", "input_ids": [(i * 104729 + 71) % 120000 + 100 for i in range(700)]},
]
NEW = 16
MARGIN, CLEAR = 0.05, 0.5  # as tests/cuda/cuda_model_test.cpp


def references(model, ids):
    with torch.no_grad():
        logits = model(torch.tensor([ids], device="cuda")).logits[0].float()
        lp = torch.log_softmax(logits, -1)
        topv, topi = torch.topk(logits, 16, dim=-1)
        greedy, margins, cur = [], [], list(ids)
        for _ in range(NEW):
            v, i = torch.topk(model(torch.tensor([cur], device="cuda")).logits[0, -1].float(), 2)
            greedy.append(int(i[0]))
            margins.append(float(v[0] - v[1]))
            cur.append(int(i[0]))
    meta = {"prompt_logprobs": [lp[t, ids[t + 1]].item() for t in range(len(ids) - 1)], "greedy_ids": greedy,
            "greedy_top2_margin": margins}
    return meta, {"last_logits": logits[-1].cpu().contiguous(), "topk_ids": topi.to(torch.int32).cpu().contiguous(),
                  "topk_logits": topv.cpu().contiguous()}


def bf16_baseline(d, cases, tensors):
    """Transformers in bf16 scored against the float32 references."""
    model = transformers.AutoModelForCausalLM.from_pretrained(d, dtype=torch.bfloat16).cuda().eval()
    clear = clear_flips = near = near_flips = 0
    worst_l2 = 0.0
    for i, c in enumerate(cases):
        with torch.no_grad():
            logits = model(torch.tensor([c["input_ids"]], device="cuda")).logits[0].float().cpu()
        top_ids, top_logits = tensors[f"case{i}.topk_ids"], tensors[f"case{i}.topk_logits"]
        for t in range(len(c["input_ids"])):
            margin = (top_logits[t, 0] - top_logits[t, 1]).item()
            flipped = logits[t].argmax().item() != top_ids[t, 0].item()
            if margin > CLEAR:
                clear, clear_flips = clear + 1, clear_flips + flipped
            elif margin > MARGIN:
                near, near_flips = near + 1, near_flips + flipped
        last = tensors[f"case{i}.last_logits"]
        worst_l2 = max(worst_l2, ((logits[-1] - last).norm() / last.norm()).item())
    del model
    torch.cuda.empty_cache()
    return worst_l2, (f"transformers bf16: top-1 flips {clear_flips}/{clear} clear, {near_flips}/{near} near; "
            f"worst last-logits rel L2 {worst_l2:.2e}")


rows, dirs = [], []
for name, (folder, overrides) in MODELS.items():
    start = time.time()
    d = os.path.join(work, name)
    save_random_model(os.path.join(configs_dir, folder), tok_dir, d, overrides)
    ref = transformers.AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).cuda().eval()
    out, tensors = {"note": f"random {folder} (seed 0), bf16 weights; transformers float32 references",
                    "transformers": transformers.__version__, "torch": torch.__version__, "cases": []}, {}
    for i, c in enumerate(CASES):
        meta, t = references(ref, c["input_ids"])
        out["cases"].append({**c, **meta})
        tensors.update({f"case{i}.{k}": v for k, v in t.items()})
    del ref
    torch.cuda.empty_cache()
    save_file(tensors, os.path.join(d, "reference.safetensors"))
    # The test allows the last logits as far from float32 as transformers'
    # own bf16 run is (or 2e-2, whichever is larger).
    out["transformers_bf16_last_logits_rel_l2"], baseline = bf16_baseline(d, CASES, tensors)
    json.dump(out, open(os.path.join(d, "reference.json"), "w"))
    rows.append(f"{name}: {baseline} (made in {time.time() - start:.0f} s)")
    print(rows[-1], flush=True)
    dirs.append(d)

env = dict(os.environ, ARLE_REAL_SHAPE_MODELS=":".join(dirs))
test = subprocess.run([test_binary, "--gtest_filter=CudaRealShapes.*"], env=env, capture_output=True, text=True)
print(test.stdout[-6000:] + test.stderr[-2000:])
print("\n".join(rows))
sys.exit(test.returncode)
