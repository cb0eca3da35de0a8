"""Known answers for `thresher fit`: GARCH(1,1) with standardized Student-t innovations and a
constant mean, fitted by the Python `arch` package (returns in percent, arch's defaults: backcast of
the initial variance, robust standard errors, SLSQP). Writes arch-reference.json beside this file.

    pip install arch==8.0.0 pandas && python3 Tests/Fixtures/history/make_arch_reference.py
"""
import json, os
import numpy as np, pandas as pd
from arch import __version__ as arch_version
from arch import arch_model

here = os.path.dirname(os.path.abspath(__file__))

def fit(prices, name):
    prices = prices.dropna()
    returns = 100 * prices.pct_change().dropna()
    res = arch_model(returns, mean="Constant", vol="GARCH", p=1, q=1, dist="t").fit(disp="off")
    p, se = res.params, res.std_err
    forecast = res.forecast(horizon=1, reindex=False).variance.iloc[-1, 0]
    return {"id": name, "n": int(res.nobs), "mu": p["mu"], "omega": p["omega"], "alpha": p["alpha[1]"],
            "beta": p["beta[1]"], "nu": p["nu"], "loglik": res.loglikelihood,
            "std_err": {"mu": se["mu"], "omega": se["omega"], "alpha": se["alpha[1]"], "beta": se["beta[1]"], "nu": se["nu"]},
            "forecast_variance": float(forecast)}

sp = pd.read_csv(os.path.join(here, "sp500.csv"))
btc = pd.read_csv(os.path.join(here, "bitstamp-btc-eth-ltc-daily.csv"))
out = {"arch_version": arch_version, "returns": "percent simple returns between consecutive rows",
       "fits": [fit(sp["Adj Close"], "SPX"), fit(btc["BTC:close"], "BTC"), fit(btc["ETH:close"], "ETH")]}
with open(os.path.join(here, "arch-reference.json"), "w") as f:
    json.dump(out, f, indent=2)
print(json.dumps(out, indent=2))
