#!/usr/bin/env python3
"""Output tokens/s through `arle serve` at fixed client concurrency (the
issue's workload (d)), stdlib only so it runs on the GPU machine: starts the
server, then for each concurrency C runs C clients, each sending whole
(non-streamed) /v1/completions requests back to back: 512 random prompt ids,
256 output tokens, greedy, ignore_eos. Prints one JSON line per concurrency.

usage: serve_concurrency.py ARLE MODEL_DIR [--concurrency 1,16,64]
       [--requests-per-client 2] [--serve-args "..."]
"""
import argparse
import json
import random
import shlex
import subprocess
import threading
import time
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("arle")
parser.add_argument("model")
parser.add_argument("--concurrency", default="1,16,64")
parser.add_argument("--requests-per-client", type=int, default=2)
parser.add_argument("--prompt-len", type=int, default=512)
parser.add_argument("--max-tokens", type=int, default=256)
parser.add_argument("--port", type=int, default=18431)
parser.add_argument("--max-token-id", type=int, default=1000, help="prompt ids are drawn from [3, this)")
parser.add_argument("--serve-args", default="")
args = parser.parse_args()

url = f"http://127.0.0.1:{args.port}"
server = subprocess.Popen([args.arle, "--log-level", "warn", "serve", "--model-path", args.model, "--port",
                           str(args.port)] + shlex.split(args.serve_args))
try:
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    rng = random.Random(0)

    def request(prompt):
        body = json.dumps({"prompt": prompt, "max_tokens": args.max_tokens, "temperature": 0,
                           "ignore_eos": True}).encode()
        req = urllib.request.Request(f"{url}/v1/completions", body, {"Content-Type": "application/json"})
        reply = json.load(urllib.request.urlopen(req, timeout=600))
        return reply["usage"]["completion_tokens"]

    request([rng.randrange(3, args.max_token_id) for _ in range(16)])  # warm-up: first graphs, first GEMM plans
    for c in [int(x) for x in args.concurrency.split(",")]:
        tokens = [0] * c
        latencies = []
        lock = threading.Lock()

        def client(i):
            local = random.Random(i)
            for _ in range(args.requests_per_client):
                prompt = [local.randrange(3, args.max_token_id) for _ in range(args.prompt_len)]
                start = time.perf_counter()
                tokens[i] += request(prompt)
                with lock:
                    latencies.append(time.perf_counter() - start)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(c)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        latencies.sort()
        print(json.dumps({"concurrency": c, "requests": len(latencies), "output_tokens": sum(tokens),
                          "wall_seconds": round(wall, 2), "output_tokens_per_second": round(sum(tokens) / wall, 1),
                          "median_request_seconds": round(latencies[len(latencies) // 2], 3)}), flush=True)
finally:
    server.terminate()
    server.wait(timeout=60)
