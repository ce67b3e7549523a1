#!/usr/bin/env python3
"""On the GPU machine (torch + transformers): tiny random-weight models for
the architecture variants the shared fixtures do not cover, with references
computed by transformers in float32, in the shared fixtures' format
(reference.json + reference.safetensors; see tests/fixtures/README.md):

  qwen2-tiny         Qwen2: q/k/v biases, untied head, bf16
  llama-yarn-tiny    Llama with YaRN rope scaling, f32
  llama-llama3-tiny  Llama with llama3 rope scaling, attention and MLP biases, tied, f32
  llama-linear-tiny  Llama with linear rope scaling, bf16

usage: make_reference_models.py OUT_DIR TOKENIZER_DIR   (a 512-token Llama tokenizer)
"""
import json
import os
import shutil
import sys

import torch
import transformers
from safetensors.torch import save_file

out_dir, tok_dir = sys.argv[1], sys.argv[2]
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def randomize(model, seed):
    # Unit-variance-preserving random weights; norms and biases perturbed
    # around their init so every parameter matters to the logits.
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2 and "embed" not in name:
                p.copy_(torch.randn(p.shape, generator=g) / (p.shape[-1] ** 0.5))
            elif "embed" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                p.add_(0.1 * torch.randn(p.shape, generator=g))
        if model.config.tie_word_embeddings:
            for name, p in model.named_parameters():
                if name.endswith(("o_proj.weight", "down_proj.weight")):
                    p.mul_(4.0)


def cases(tokenizer):
    texts = ["Once upon a time", "Lily and Tom went to the park. They saw a big dog",
             " ".join(["The little cat was happy because the sun was warm and the grass was soft."] * 12)]
    return [{"name": f"text{i}", "text": t, "input_ids": tokenizer(t)["input_ids"]} for i, t in enumerate(texts)]


def references(model, ids, n_new):
    with torch.no_grad():
        logits = model(torch.tensor([ids], device="cuda")).logits[0].float()
        lp = torch.log_softmax(logits, -1)
        prompt_lp = [lp[t, ids[t + 1]].item() for t in range(len(ids) - 1)]
        top_v, top_i = torch.topk(logits, 16, dim=-1)
        greedy, margins, cur = [], [], list(ids)
        for _ in range(n_new):
            last = model(torch.tensor([cur], device="cuda")).logits[0, -1].float()
            v, i = torch.topk(last, 2)
            greedy.append(int(i[0]))
            margins.append(float(v[0] - v[1]))
            cur.append(int(i[0]))
    return ({"prompt_logprobs": prompt_lp, "greedy_ids": greedy, "greedy_top2_margin": margins},
            {"last_logits": logits[-1].cpu().contiguous(), "topk_ids": top_i.to(torch.int32).cpu().contiguous(),
             "topk_logits": top_v.cpu().contiguous()})


def make(name, config_class, model_class, kw, seed, dtype, n_new=32):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    config = getattr(transformers, config_class)(**kw)
    torch.manual_seed(seed)
    model = getattr(transformers, model_class)(config)
    randomize(model, seed)
    model.to(dtype).save_pretrained(d, safe_serialization=True)
    for f in os.listdir(tok_dir):
        if f.startswith("tokenizer") or f == "special_tokens_map.json":
            shutil.copy(os.path.join(tok_dir, f), d)
    with open(os.path.join(d, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 1, "eos_token_id": 2, "do_sample": False}, f, indent=1)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tok_dir)
    reloaded = transformers.AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).cuda().eval()
    result = {"note": f"{model_class} random weights (seed {seed}), stored {dtype}; references computed by "
                      "transformers in float32 from the stored weights",
              "transformers": transformers.__version__, "torch": torch.__version__, "cases": []}
    tensors = {}
    for i, c in enumerate(cases(tokenizer)):
        r, t = references(reloaded, c["input_ids"], n_new)
        result["cases"].append({**c, **r})
        tensors.update({f"case{i}.{k}": v for k, v in t.items()})
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(result, f, indent=1)
    save_file(tensors, os.path.join(d, "reference.safetensors"))
    print("MADE", name, json.dumps(json.load(open(os.path.join(d, "config.json"))).get("rope_parameters")))


small = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-6, bos_token_id=1, eos_token_id=2)
make("qwen2-tiny", "Qwen2Config", "Qwen2ForCausalLM",
     {**small, "tie_word_embeddings": False, "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}},
     21, torch.bfloat16)
make("llama-yarn-tiny", "LlamaConfig", "LlamaForCausalLM",
     {**small, "head_dim": 16, "tie_word_embeddings": False,
      "rope_parameters": {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 8.0,
                          "original_max_position_embeddings": 64}},
     22, torch.float32)
make("llama-llama3-tiny", "LlamaConfig", "LlamaForCausalLM",
     {**small, "head_dim": 16, "tie_word_embeddings": True, "attention_bias": True, "mlp_bias": True,
      "rope_parameters": {"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
                          "high_freq_factor": 4.0, "original_max_position_embeddings": 64}},
     23, torch.float32)
make("llama-linear-tiny", "LlamaConfig", "LlamaForCausalLM",
     {**small, "head_dim": 16, "tie_word_embeddings": False,
      "rope_parameters": {"rope_type": "linear", "rope_theta": 10000.0, "factor": 4.0}},
     24, torch.bfloat16)
print("DONE")
