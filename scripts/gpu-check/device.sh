#!/usr/bin/env bash
# ragtune's GPU check, the device half: ONE command on the GPU machine, from the repository root,
#   bash scripts/gpu-check/device.sh
# with scripts/gpu-check/.payload carried (prepare.ts builds it). Everything lands in $OUT:
#   log.txt  summary.json  events.jsonl  steps.jsonl  logits.safetensors  adapter/adapter_model.safetensors  adapter/adapter_config.json
# Each step is time-boxed; a failing step is recorded and the next one still runs. The whole run
# stays within BUDGET_S seconds (default 300) and should take about 2-3 minutes on an H100.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="${OUT:-$REPO/gpucheck-out}"
PY="${PYTHON:-python3}"
PAYLOAD="${PAYLOAD:-$HERE/.payload}"
BUDGET_S="${BUDGET_S:-300}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpucheck-work.XXXXXX")"
T0=$(date +%s)

export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
mkdir -p "$OUT"
rm -f "$OUT/steps.jsonl" "$OUT/events.jsonl" "$OUT/summary.json" "$OUT/logits.safetensors"

have_timeout=1
command -v timeout >/dev/null 2>&1 || have_timeout=0

# run_step NAME LIMIT_S CMD...: runs CMD under a time limit (cut to what is left of the budget),
# records {"step", "rc", "seconds", "limit"} in steps.jsonl; never stops the script.
run_step() {
  local name="$1" limit="$2"
  shift 2
  # 15 s of the budget stay reserved for the last step, finalize.
  local reserve=15
  [ "$name" = finalize ] && reserve=0
  local left=$(( BUDGET_S - ($(date +%s) - T0) - reserve ))
  (( limit > left )) && limit=$left
  if (( limit < 10 )); then
    echo "=== [$name] SKIPPED: the time budget (${BUDGET_S}s) is spent"
    printf '{"step":"%s","rc":null,"seconds":0,"limit":0,"skipped":true}\n' "$name" >> "$OUT/steps.jsonl"
    return 1
  fi
  echo
  echo "=== [$name] start $(date -u +%H:%M:%S) (limit ${limit}s): $*"
  local s rc
  s=$(date +%s)
  if (( have_timeout )); then timeout -k 5 "$limit" "$@"; rc=$?; else "$@"; rc=$?; fi
  local secs=$(( $(date +%s) - s ))
  (( rc == 124 || rc == 137 )) && echo "=== [$name] TIMED OUT after ${secs}s"
  echo "=== [$name] rc=$rc after ${secs}s"
  printf '{"step":"%s","rc":%d,"seconds":%d,"limit":%d}\n' "$name" "$rc" "$secs" "$limit" >> "$OUT/steps.jsonl"
  return "$rc"
}

main() {
  local failed=0
  echo "ragtune GPU check: repo $REPO, payload $PAYLOAD, OUT $OUT, work $WORK, python $(command -v "$PY" || echo "$PY: not found"), budget ${BUDGET_S}s"
  echo "host: $(uname -a)"
  if [ ! -f "$PAYLOAD/manifest.json" ]; then
    echo "ERROR: no payload at $PAYLOAD (run prepare.ts here first and carry scripts/gpu-check/.payload)"
    failed=1
  fi

  run_step nvidia-smi 30 bash -c 'nvidia-smi -L; nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv' || true
  run_step env 60 "$PY" "$HERE/device_check.py" env --out "$OUT" || failed=$((failed + 1))
  run_step base 100 "$PY" "$HERE/device_check.py" base --payload "$PAYLOAD" --out "$OUT" || failed=$((failed + 1))
  run_step train 200 "$PY" "$HERE/device_check.py" train --payload "$PAYLOAD" --work "$WORK" --out "$OUT" \
    --deadline-full 100 --deadline-part 45 || failed=$((failed + 1))
  run_step adapter 75 "$PY" "$HERE/device_check.py" adapter --payload "$PAYLOAD" --adapter-dir "$WORK/run-full/adapter" --out "$OUT" \
    || failed=$((failed + 1))
  run_step finalize 30 "$PY" "$HERE/device_check.py" finalize --out "$OUT" || {
    # No working python: still leave a summary.json with the step results.
    { printf '{"ok": false, "finalizeFailed": true, "steps": ['; paste -sd, "$OUT/steps.jsonl" 2>/dev/null; printf ']}\n'; } > "$OUT/summary.json"
  }
  echo
  echo "=== done in $(( $(date +%s) - T0 ))s, ${failed} failed step(s); OUT:"
  ls -la "$OUT" "$OUT/adapter" 2>/dev/null
  rm -rf "$WORK"
  return "$failed"
}

main 2>&1 | tee "$OUT/log.txt"
exit "${PIPESTATUS[0]}"
