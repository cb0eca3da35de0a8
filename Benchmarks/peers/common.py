"""Shared by the NumPy and Numba peers: read a Thresher scenario (linear instruments and European
options, student-t or gaussian tails, optional vol shocks) into arrays, and the tail statistics."""
import argparse
import json
import math
import sys

import numpy as np
import yaml


def arguments():
    """SCENARIO [--paths N], the command line of both peers."""
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario")
    parser.add_argument("--paths", type=int)
    return parser.parse_args()


def load(path):
    doc = yaml.safe_load(open(path))
    market = doc["market"]
    assets = market["assets"]
    ids = [a["id"] for a in assets]
    n = len(ids)
    corr = market.get("correlation", {"uniform": 0.0})
    if "uniform" in corr:
        R = np.full((n, n), float(corr["uniform"]))
        np.fill_diagonal(R, 1.0)
    else:
        R = np.array(corr["matrix"], dtype=float)
    tails = market.get("tails", {"model": "gaussian"})
    if tails["model"] not in ("gaussian", "student-t"):
        sys.exit("peers support gaussian and student-t tails")
    vs = market.get("vol_shocks")
    spot = np.array([a["spot"] for a in assets], dtype=float)
    m = dict(
        name=doc["name"], paths=int(doc["simulation"]["paths"]), seed=int(doc["simulation"].get("seed", 0)),
        h=float(doc["simulation"].get("horizon_days", 1)) / 365.0, rate=float(market.get("rate", 0.0)),
        spot=spot, vol=np.array([a["vol"] for a in assets], dtype=float), R=R,
        dof=float(tails["dof"]) if tails["model"] == "student-t" else None,
        vov=float(vs["vol_of_vol"]) if vs else 0.0, rho=float(vs.get("spot_correlation", 0.0)) if vs else 0.0,
        levels=[float(x) for x in doc.get("risk", {}).get("confidence", [0.99])],
    )
    # Linear part of the book loss: loss = const - w . S'
    w = np.zeros(n)
    const = 0.0
    opt = {"asset": [], "call": [], "strike": [], "tau": [], "q": [], "iv": []}
    for acct in doc["portfolio"]["accounts"]:
        for cur, amt in (acct.get("collateral") or {}).items():
            if cur != "USD":
                i = ids.index(cur)
                w[i] += amt
                const += amt * spot[i]
        for p in acct.get("positions") or []:
            i = ids.index(p["asset"])
            if p["type"] in ("spot", "perp"):
                w[i] += p["quantity"]
                const += p["quantity"] * spot[i]
            elif p["type"] == "option":
                for k, v in (("asset", i), ("call", p["right"] == "call"), ("strike", p["strike"]),
                             ("tau", p["expiry_days"] / 365.0), ("q", p["quantity"]), ("iv", p["iv"])):
                    opt[k].append(v)
            else:
                sys.exit(f"peers do not implement {p['type']}")
    m["w"], m["const"] = w, const
    m["opt"] = {k: np.array(v) for k, v in opt.items()}
    m["opt"]["value0"] = black_scholes(m["opt"]["call"], spot[m["opt"]["asset"]], m["opt"]["strike"],
                                       m["opt"]["tau"], m["rate"], m["opt"]["iv"])
    return m


def black_scholes(call, s, k, tau, r, vol):
    from scipy.special import ndtr
    sd = vol * np.sqrt(tau)
    d1 = (np.log(s / k) + (r + 0.5 * vol * vol) * tau) / sd
    d2 = d1 - sd
    return np.where(call, s * ndtr(d1) - k * np.exp(-r * tau) * ndtr(d2), k * np.exp(-r * tau) * ndtr(-d2) - s * ndtr(-d1))


def tail_report(m, losses, elapsed, peer):
    """VaR = k-th largest, ES = mean of the k largest, k = ceil((1-a) N) — Thresher's definitions."""
    n = losses.size
    out = {"peer": peer, "scenario": m["name"], "paths": n, "elapsed_seconds": elapsed, "var": {}, "es": {}}
    for a in m["levels"]:
        k = max(1, math.ceil(round((1 - a) * n, 9)))
        top = np.partition(losses, n - k)[n - k:]
        out["var"][str(a)] = float(top.min())
        out["es"][str(a)] = float(top.mean())
    print(json.dumps(out))
