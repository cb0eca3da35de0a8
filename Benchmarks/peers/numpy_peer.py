#!/usr/bin/env python3
"""The W2 model written as a quant would in NumPy/SciPy: numpy.random, numpy.linalg.cholesky,
scipy.special.ndtr, vectorised over paths (in batches of 50,000 to bound memory) and options.

usage: numpy_peer.py SCENARIO [--paths N]   → one JSON line with VaR/ES and the wall time."""
import time

import numpy as np
from scipy.special import ndtr

from common import arguments, load, tail_report


def main():
    start = time.perf_counter()
    args = arguments()
    m = load(args.scenario)
    N = args.paths or m["paths"]
    rng = np.random.default_rng(m["seed"])
    L = np.linalg.cholesky(m["R"])
    n = len(m["spot"])
    h, r, nu = m["h"], m["rate"], m["dof"]
    scale = m["vol"] * np.sqrt(h)
    o = m["opt"]
    tau = o["tau"] - h
    sd_t = np.sqrt(np.maximum(tau, 0))
    disc_k = o["strike"] * np.exp(-r * np.maximum(tau, 0))
    log_k = np.log(o["strike"])
    losses = np.empty(N)
    batch = 50_000
    for b0 in range(0, N, batch):
        B = min(batch, N - b0)
        eps = rng.standard_normal((B, n)) @ L.T
        if nu is not None:
            eps *= np.sqrt((nu - 2) / rng.chisquare(nu, B))[:, None]
        log_s = np.log(m["spot"]) + scale * eps
        s = np.exp(log_s)
        pnl = s @ m["w"] - m["const"]
        if o["q"].size:
            vol = o["iv"] * (np.exp(m["vov"] * np.sqrt(h) * (m["rho"] * eps + np.sqrt(1 - m["rho"] ** 2)
                                                               * rng.standard_normal((B, n))))[:, o["asset"]])
            so = s[:, o["asset"]]
            sd = vol * sd_t
            d1 = (log_s[:, o["asset"]] - log_k + (r + 0.5 * vol * vol) * tau) / sd
            d2 = d1 - sd
            price = np.where(o["call"], so * ndtr(d1) - disc_k * ndtr(d2), disc_k * ndtr(-d2) - so * ndtr(-d1))
            pnl += (price - o["value0"]) @ o["q"]
        losses[b0:b0 + B] = -pnl
    tail_report(m, losses, time.perf_counter() - start, "numpy")


if __name__ == "__main__":
    main()
