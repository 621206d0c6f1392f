"""``partial_fit`` of the quantile loss: the last iterate against averages of the iterates.

The general loop's subgradient steps ``R / (L sqrt(t))`` (``t`` the number of
``partial_fit`` calls) come with a guarantee for an average of the iterates,
not for the last one.  On the DESIGN.md data of ``bench_blocked.py`` (mixed
feature scales, heteroscedastic t(2) noise, standardised as a streaming user
would), this prints the relative gap of the pinball objective to the exact
fit after a number of passes over chunks of ``--chunk`` rows, each call
taking mini-batches of ``--batch`` rows, for ``average='auto'`` (the
default: the polynomial-decay average ``c_t = (eta + 1) / (t + eta)``,
``eta = 3``), ``average=False`` (the last iterate), ``True`` (the mean from
the first step) and ``average=N`` (the mean from step ``N`` on, ``N`` given
as a number of passes' worth of steps).  Every setting runs the same
iterates (the same shuffling seed): only the reported weights differ.

    python benchmarks/bench_partial_fit_average.py [--rows 3e5] [--chunk 3e4]
        [--batch 1000] [--passes 1 5 10 30] [--start-passes 5 10] [--loss quantile]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressor


def data(n, d, seed):
    rng = np.random.default_rng(seed)
    scale, shift = rng.uniform(0.5, 3, d), rng.uniform(-1, 1, d)
    beta = rng.standard_normal(d)
    X = rng.standard_normal((n, d)) * scale + shift
    y = X @ beta + 2 + rng.standard_t(2, n) * (1 + 0.5 * np.abs(X[:, 0]))
    return StandardScaler().fit_transform(X), y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=3e5)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--quantile", type=float, default=0.9)
    parser.add_argument("--chunk", type=float, default=3e4)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--passes", type=int, nargs="+", default=[1, 5, 10, 30])
    parser.add_argument("--start-passes", type=int, nargs="+", default=[5, 10],
                        help="average=N from the step after this many passes")
    parser.add_argument("--loss", choices=["quantile", "absolute_error"], default="quantile")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n, chunk = int(args.rows), int(args.chunk)
    tau = args.quantile if args.loss == "quantile" else 0.5
    X, y = data(n, args.features, args.seed)

    def pinball(r):
        return float(np.mean(np.maximum(tau * r, (tau - 1) * r)))

    exact = LipschitzRegressor(loss=args.loss, quantile=tau).fit(X, y)
    f_star = pinball(y - exact.predict(X))
    steps_per_pass = sum(-(-min(chunk, n - i) // args.batch) for i in range(0, n, chunk))
    settings = [("'auto' (the default)", "auto"), ("False (last iterate)", False),
                ("True (from the first step)", True)]
    settings += [(f"{p * steps_per_pass} (from pass {p + 1})", p * steps_per_pass)
                 for p in args.start_passes]
    print(f"{n:.3g} rows, chunks of {chunk:.3g}, mini-batches of {args.batch} "
          f"({steps_per_pass} steps a pass), loss {args.loss!r}"
          + (f" at quantile {tau}" if args.loss == "quantile" else "")
          + "; relative gap to the exact objective:\n")
    print("| average | " + " | ".join(f"{p} passes" for p in args.passes) + " | time (s) |")
    print("|---" * (len(args.passes) + 2) + "|")
    for name, average in settings:
        est = LipschitzRegressor(loss=args.loss, quantile=tau, batch_size=args.batch,
                                 average=average, random_state=args.seed)
        gaps, t0 = [], time.perf_counter()
        for p in range(1, max(args.passes) + 1):
            for i in range(0, n, chunk):
                est.partial_fit(X[i:i + chunk], y[i:i + chunk])
            if p in args.passes:
                gaps.append((pinball(y - est.predict(X)) - f_star) / f_star)
        el = time.perf_counter() - t0
        print(f"| {name} | " + " | ".join(f"{g:.1e}" for g in gaps) + f" | {el:.0f} |")


if __name__ == "__main__":
    main()
