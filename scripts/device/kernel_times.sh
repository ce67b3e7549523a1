#!/usr/bin/env bash
# On the GPU machine: GPU time per kernel (summed over launches) for one
# `arle bench latency` run under ncu, largest first. ncu locks the clocks to
# base, so the times are longer than a plain run's; compare them with each
# other, not with bench numbers.
# usage: scripts/device/kernel_times.sh MODEL_DIR INPUT_LEN OUTPUT_LEN [extra bench args...]
set -euo pipefail
model="$1" input="$2" output="$3"
shift 3
out="${OUT:-/tmp}"
csv="$out/kernel_times_$(basename "$model")_${input}_${output}.csv"
ncu --metrics gpu__time_duration.sum --csv device/bin/arle --log-level warn bench latency --backend cuda \
  --model-path "$model" --input-len "$input" --output-len "$output" --iterations 1 "$@" > "$csv" 2> "$csv.err"
python3 - "$csv" <<'PY'
import collections, csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
head = rows[0]
name, value, unit = head.index("Kernel Name"), head.index("Metric Value"), head.index("Metric Unit")
scale = {"ns": 1e-6, "nsecond": 1e-6, "us": 1e-3, "usecond": 1e-3, "ms": 1.0, "msecond": 1.0}
total = collections.defaultdict(lambda: [0, 0.0])
for r in rows[1:]:
    try:
        ms = float(r[value].replace(",", "")) * scale[r[unit]]
    except (ValueError, KeyError):
        continue
    entry = total[r[name].split("(")[0][:80]]
    entry[0] += 1
    entry[1] += ms
print(f"all kernels: {sum(e[1] for e in total.values()):.3f} ms (warm-up and measured run together)")
for kernel, (count, ms) in sorted(total.items(), key=lambda kv: -kv[1][1])[:20]:
    print(f"{ms:10.3f} ms {count:7d}  {kernel}")
PY
