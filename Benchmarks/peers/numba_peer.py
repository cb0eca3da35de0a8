#!/usr/bin/env python3
"""The W2 model in Numba: @njit(parallel=True) over paths, math.erfc for Φ, per-path loops.
Compiled once on a small run first; the time reported is the compute time of the full run after JIT.

usage: numba_peer.py SCENARIO [--paths N]   → one JSON line with VaR/ES and the compute time."""
import math
import time

import numba
import numpy as np

from common import arguments, load, tail_report


@numba.njit(parallel=True, fastmath=False, cache=False)
def simulate(N, seed, L, spot, scale, w, const, nu, vov_h, rho, o_asset, o_call, o_strike, o_tau, o_q, o_iv, o_v0, rate, h):
    n = spot.size
    losses = np.empty(N)
    log_spot = np.log(spot)
    rho_c = math.sqrt(1 - rho * rho)
    for p in numba.prange(N):
        np.random.seed(seed * 1_000_003 + p)  # a stream per path: reproducible for any thread count
        z = np.random.standard_normal(n)
        mix = math.sqrt((nu - 2) / np.random.chisquare(nu)) if nu > 0 else 1.0
        eps = np.empty(n)
        for i in range(n):
            acc = 0.0
            for k in range(i + 1):
                acc += L[i, k] * z[k]
            eps[i] = acc * mix
        s = np.empty(n)
        ls = np.empty(n)
        f = np.empty(n)
        pnl = -const
        for i in range(n):
            ls[i] = log_spot[i] + scale[i] * eps[i]
            s[i] = math.exp(ls[i])
            pnl += w[i] * s[i]
            f[i] = math.exp(vov_h * (rho * eps[i] + rho_c * np.random.standard_normal()))
        for j in range(o_q.size):
            a = o_asset[j]
            tau = o_tau[j] - h
            if tau <= 0:
                price = max(s[a] - o_strike[j], 0.0) if o_call[j] else max(o_strike[j] - s[a], 0.0)
            else:
                vol = o_iv[j] * f[a]
                sd = vol * math.sqrt(tau)
                d1 = (ls[a] - math.log(o_strike[j]) + (rate + 0.5 * vol * vol) * tau) / sd
                d2 = d1 - sd
                dk = o_strike[j] * math.exp(-rate * tau)
                if o_call[j]:
                    price = s[a] * 0.5 * math.erfc(-d1 / math.sqrt(2.0)) - dk * 0.5 * math.erfc(-d2 / math.sqrt(2.0))
                else:
                    price = dk * 0.5 * math.erfc(d2 / math.sqrt(2.0)) - s[a] * 0.5 * math.erfc(d1 / math.sqrt(2.0))
            pnl += o_q[j] * (price - o_v0[j])
        losses[p] = -pnl
    return losses


def main():
    args = arguments()
    m = load(args.scenario)
    N = args.paths or m["paths"]
    o = m["opt"]
    call = (np.linalg.cholesky(m["R"]), m["spot"], m["vol"] * math.sqrt(m["h"]), m["w"], m["const"],
            m["dof"] or 0.0, m["vov"] * math.sqrt(m["h"]), m["rho"], o["asset"].astype(np.int64), o["call"].astype(np.bool_),
            o["strike"].astype(float), o["tau"].astype(float), o["q"].astype(float), o["iv"].astype(float),
            o["value0"].astype(float), m["rate"], m["h"])
    simulate(1000, m["seed"], *call)  # JIT compile
    start = time.perf_counter()
    losses = simulate(N, m["seed"], *call)
    tail_report(m, losses, time.perf_counter() - start, f"numba ({numba.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
