#!/usr/bin/env bash
# Compares the JSON reports of two thresher binaries byte for byte, timing and provenance fields
# removed (elapsed*, *per_second*, generated_at, commit, kernels): run, calibrate --sections 0,
# evaluate, stress and robustness on the scenarios, fixed seeds. Issue 28's bit-identity check:
#   Benchmarks/compare_builds.sh .build/release/thresher .build-portable/release/thresher
#   B_ENV=THRESHER_KERNELS=baseline Benchmarks/compare_builds.sh .build/release/thresher .build-portable/release/thresher
# PATHS (default 100000) sets the Monte Carlo runs' paths. Exit status 1 if any report differs.
set -euo pipefail
cd "$(dirname "$0")/.."
A=$1 B=$2 P=${PATHS:-100000}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
strip() { python3 -c 'import json, sys
def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()
                if not any(t in k for t in ("elapsed", "per_second", "generated_at", "commit", "kernels"))}
    return [clean(x) for x in v] if isinstance(v, list) else v
json.dump(clean(json.load(open(sys.argv[1]))), sys.stdout, indent=1, sort_keys=True)' "$1"; }
status=0 n=0
while IFS= read -r cmd; do
  [ -z "$cmd" ] && continue
  # shellcheck disable=SC2086
  env ${A_ENV:-} "$A" $cmd --quiet --json "$OUT/a.json" > /dev/null 2> "$OUT/err" || { cat "$OUT/err"; exit 2; }
  # shellcheck disable=SC2086
  env ${B_ENV:-} "$B" $cmd --quiet --json "$OUT/b.json" > /dev/null 2> "$OUT/err" || { cat "$OUT/err"; exit 2; }
  strip "$OUT/a.json" > "$OUT/a.txt"; strip "$OUT/b.json" > "$OUT/b.txt"
  n=$((n + 1))
  if cmp -s "$OUT/a.txt" "$OUT/b.txt"; then echo "same      $cmd"
  else echo "DIFFERENT $cmd ($(diff "$OUT/a.txt" "$OUT/b.txt" | grep -c '^<') lines)"; status=1; fi
done <<EOF2
run Scenarios/default.yaml --seed 11 --paths $P
run Scenarios/examples/btc-eth-book.yaml --seed 12 --paths $P
run Scenarios/bench/w2-book.yaml --seed 13 --paths $P
run Scenarios/bench/w3-exchange.yaml --seed 14 --paths $((P / 5))
calibrate Scenarios/default.yaml --sections 0 --seed 15 --paths $P
evaluate Scenarios/default.yaml --seed 16 --paths $P
stress Scenarios/default.yaml
stress Scenarios/examples/btc-eth-book.yaml
robustness Scenarios/default.yaml --seed 17 --paths $((P / 5))
EOF2
echo "$n reports compared: $([ $status = 0 ] && echo all the same || echo SOME DIFFER)"
exit $status
