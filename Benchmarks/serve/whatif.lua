-- wrk script for `thresher serve`'s deterministic what-if (Benchmarks/README.md, "thresher serve"):
-- POST /api/whatif with a different BTC and ETH move on every request (so no answer comes from the
-- server's cache of recent answers: each one revalues the whole book), first page of who fails.
-- wrk -t2 -c8 -d30s --latency -s Benchmarks/serve/whatif.lua http://127.0.0.1:PORT/api/whatif
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  counter = (id or 0) * 100003
end
request = function()
  counter = counter + 1
  local btc = -0.05 - (counter % 997) / 10000
  local eth = -0.05 - (counter % 991) / 10000
  local body = string.format('{"shock": ["BTC=%.4f", "ETH=%.4f"], "shock_vol": ["*=0.3"], "limit": 100}', btc, eth)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
