#!/usr/bin/env bash
# On the GPU machine, issue 10's measurement: what the prefix cache saves
# the agent. The REPL (piped input, so no terminal is needed) talks with a
# random-weight Qwen3-0.6B on CUDA for 8 user messages of about 1,200 tokens
# each, 64 generated tokens a turn, with the shell and python tools in the
# prompt (--approve never). It runs twice, with the prefix cache and with
# --no-prefix-cache, and prints each turn's prompt tokens, tokens served by
# the cache and time to first token from the --trace files in $OUT.
set -uo pipefail
source "$(dirname "$0")/common.sh"
# Eight messages from the docs, one a line (about 1,200 tokens each).
python3 - "$out/messages.txt" <<'PY'
import glob, sys
words = " ".join(open(f).read() for f in sorted(glob.glob("docs/*.md"))).split()
with open(sys.argv[1], "w") as out:
    for turn in range(8):
        chunk = words[turn * 900:(turn + 1) * 900]
        out.write(f"Message {turn + 1}. Read this and say what it is about: " + " ".join(chunk) + "\n")
    out.write("/stats\n")
PY
for mode in cache nocache; do
  extra=()
  [ $mode = nocache ] && extra=(--no-prefix-cache)
  $arle --log-level info --backend cuda --model-path $model --max-tokens 64 --approve never \
    --trace "$out/trace_$mode.jsonl" "${extra[@]}" < "$out/messages.txt" > "$out/repl_$mode.log" 2>&1
  echo "$mode: exit $?"
  tail -4 "$out/repl_$mode.log"
done
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
def turns(mode):
    return [r for r in map(json.loads, open(f"{out}/trace_{mode}.jsonl")) if r["type"] == "turn"]
cache, nocache = turns("cache"), turns("nocache")
print("| message | prompt tokens | served by the cache | TTFT with cache (ms) | TTFT without (ms) |")
print("|---|---|---|---|---|")
for i, (a, b) in enumerate(zip(cache, nocache)):
    print(f"| {i + 1} | {a['usage']['prompt_tokens']} | {a['usage']['cached_tokens']} | "
          f"{a['first_token_seconds'] * 1000:.1f} | {b['first_token_seconds'] * 1000:.1f} |")
PY
