#!/usr/bin/env bash
# On the GPU machine: doctor with the CUDA backend, inspect every fixture, and
# inspect transformers-written sharded checkpoints of real configs. Logs go to
# $OUT. Expects device/bin/arle (scripts/build_cuda.sh) in the working tree.
set -uo pipefail
arle=device/bin/arle
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv | tee "$OUT/gpu.txt"
$arle --doctor --json --strict > "$OUT/doctor.json"; echo "doctor --strict exit $?"
$arle --doctor
for d in tests/fixtures/models/*; do
  $arle inspect --json --model-path "$d" > "/tmp/inspect_$(basename "$d").json" || echo "inspect $d FAILED"
done
python3 -c "
import json,glob
for f in sorted(glob.glob('/tmp/inspect_*.json')):
    r=json.load(open(f)); print(f.split('inspect_')[1], r['checkpoint']['parameters'], r['weights']['complete'])
"
mkdir -p /tmp/ckpt
PYTHONUNBUFFERED=1 python3 scripts/device/make_random_checkpoints.py tests/fixtures/configs /tmp/ckpt 2>&1 | grep -v Warning | tail -20
cp /tmp/ckpt/summary.json "$OUT/summary.json"
python3 - "$arle" <<'PY' | tee "$OUT/real_checkpoints.txt"
import json, subprocess, sys
arle = sys.argv[1]
summary = json.load(open("/tmp/ckpt/summary.json"))
for name, want in summary.items():
    p = subprocess.run([arle, "inspect", "--json", "--model-path", f"/tmp/ckpt/{name}"], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"{name}: FAILED {p.stderr.strip()}"); continue
    r = json.loads(p.stdout); ck = r["checkpoint"]; w = r["weights"]
    ok = ck["parameters"] == want["parameters"] and ck["bytes"] == want["bytes"] and w["complete"] and not w["unexpected"]
    print(f"{name}: {'OK' if ok else 'MISMATCH'} shards={len(ck['shards'])} params={ck['parameters']} (python {want['parameters']}, torch {want['torch_parameters']}) "
          f"complete={w['complete']} missing={w['missing'][:3]} unexpected={w['unexpected'][:3]} mismatched={w['shape_mismatches'][:2]} ignored={w['ignored']}")
    print("   stderr:", p.stderr.strip()[:300])
PY
