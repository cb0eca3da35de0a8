#!/bin/bash
# `thresher serve` speed (Benchmarks/README.md, "thresher serve"): the W4 book (10⁵ accounts) served on
# loopback, 8 concurrent clients of wrk posting a different what-if each (whatif.lua), 30 s; then a
# Monte Carlo what-if (run, 10⁵ paths) on Scenarios/default.yaml as a job, followed to its end.
# THRESHER=path/to/thresher (default .build/release/thresher); needs wrk and curl (make bench-serve).
set -euo pipefail
bin=${THRESHER:-.build/release/thresher}
port=${PORT:-18181}
base=http://127.0.0.1:$port
serve() {
  "$bin" serve "$1" --port "$port" > /tmp/thresher-bench-serve.log 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do grep -q listening /tmp/thresher-bench-serve.log && break; sleep 0.1; done
  cat /tmp/thresher-bench-serve.log
}
stop() { kill -TERM "$pid"; wait "$pid" || true; }

serve Scenarios/bench/w4-exchange.yaml
wrk -t2 -c8 -d${DURATION:-30s} --latency -s Benchmarks/serve/whatif.lua "$base/api/whatif"
stop

serve Scenarios/default.yaml
for command in run run run evaluate; do
  start=$(date +%s.%N)
  id=$(curl -s -XPOST "$base/api/jobs" -d "{\"command\": \"$command\", \"paths\": 100000, \"shock\": [\"BTC=-0.2\"], \"shock_vol\": [\"*=0.5\"]}" \
       | sed -n 's/^  "id": "\(.*\)",$/\1/p')
  last=$(curl -sN "$base/api/jobs/$id/events" | grep '^data:' | tail -1)
  end=$(date +%s.%N)
  echo "$command 1e5 paths: $(echo "$last" | grep -o '"state": "[a-z]*"'), job $(echo "$last" | grep -o '"seconds": [0-9.]*' | cut -d' ' -f2) s, client wall (submit → end event) $(echo "$end - $start" | bc) s"
done
stop
