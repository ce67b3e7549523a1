#!/usr/bin/env bash
# On the GPU machine, issue 9's checks and timings for `arle eval` on a
# random-weight Qwen3-0.6B: the cross-check against transformers
# (eval_vs_transformers.py), MMLU questions/s on a 20-per-subject slice at
# a few concurrencies, the whole MMLU test split (14,042 questions) on the
# local engine, then through `arle serve` and the remote path, and how far
# the local and remote scores differ. Logs and reports land in $OUT.
# LIMIT=N runs local and remote on N questions a subject instead (the remote
# path scores every prompt position: echo with logprobs, as lm-eval asks).
# usage: scripts/device/eval_gpu.sh [cross|sweep|local|remote]...  (default: all four)
set -uo pipefail
source "$(dirname "$0")/common.sh"
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(cross sweep local remote)
summary=()
limit=()
[ -n "${LIMIT:-}" ] && limit=(--limit "$LIMIT")
for step in "${steps[@]}"; do
  case $step in
    cross)
      python3 scripts/device/eval_vs_transformers.py $arle $model "$out" 50 > "$out/cross_check.log" 2>&1
      summary+=("cross-check exit $?: $(tail -4 "$out/cross_check.log" | tr '\n' ' ')") ;;
    sweep)
      for c in 32 128 256; do
        $arle --log-level warn eval mmlu --backend cuda --model-path $model --limit 20 --concurrency $c \
          --output "$out/sweep_c$c.json" > "$out/sweep_c$c.log" 2>&1
        summary+=("slice, concurrency $c: $(tail -1 "$out/sweep_c$c.log")")
      done ;;
    local)
      /usr/bin/time -v $arle --log-level info eval mmlu --backend cuda --model-path $model \
        "${limit[@]}" --concurrency "${CONCURRENCY:-128}" --output "$out/mmlu_local.json" > "$out/mmlu_local.log" 2>&1
      summary+=("MMLU ${LIMIT:+(limit $LIMIT) }local: exit $? $(tail -1 "$out/mmlu_local.log" | head -c 0)$(grep questions/s "$out/mmlu_local.log")"
                "  peak RSS: $(grep 'Maximum resident' "$out/mmlu_local.log")") ;;
    remote)
      $arle --log-level warn serve --backend cuda --model-path $model --port 8123 --served-model-name qwen3-0.6b \
        > "$out/serve.log" 2>&1 &
      server=$!
      for _ in $(seq 120); do
        python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8123/v1/models')" 2>/dev/null && break
        sleep 1
      done
      $arle --log-level warn eval mmlu --base-url http://127.0.0.1:8123/v1 --model qwen3-0.6b \
        "${limit[@]}" --concurrency "${REMOTE_CONCURRENCY:-128}" --output "$out/mmlu_remote.json" > "$out/mmlu_remote.log" 2>&1
      summary+=("MMLU ${LIMIT:+(limit $LIMIT) }remote: exit $? $(grep questions/s "$out/mmlu_remote.log")")
      kill $server; wait $server 2>/dev/null
      if [ -f "$out/mmlu_local.json" ]; then
        summary+=("local vs remote: $(python3 - "$out/mmlu_local.json" "$out/mmlu_remote.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["records"] for p in sys.argv[1:3])
diffs = [abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra.get("loglikelihoods", []), rb.get("loglikelihoods", []))]
same = sum(ra.get("prediction") == rb.get("prediction") for ra, rb in zip(a, b))
print(f"{len(diffs)} choices, worst |local - remote| {max(diffs):.2e} nats, predictions equal {same}/{len(a)}")
PY
)")
      fi ;;
  esac
done
printf '%s\n' "${summary[@]}" | tee "$out/summary.txt"
