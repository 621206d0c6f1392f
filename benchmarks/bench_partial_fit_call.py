"""The fixed cost of a ``partial_fit`` call: milliseconds per one-row call and
per 100-row chunk, for every estimator, on standardized breast cancer
(classifiers) and diabetes (regressors).

Timings are noisy on a loaded machine: compare source trees in the same run
(``--trees A B``: each tree is timed in its own process, alternately, ``--rounds``
times; the medians and their ratios to the first tree are printed).

Run:  python benchmarks/bench_partial_fit_call.py
      python benchmarks/bench_partial_fit_call.py --trees /path/to/main /path/to/branch
"""
import argparse
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np

ESTIMATORS = ("SymNetClassifier", "SymNetRegressor", "LipschitzQuantileClassifier",
              "LipschitzRegressor")


def measure(calls=150):
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.preprocessing import StandardScaler

    import sklipschitz
    from sklipschitz.linear_model import LipschitzQuantileClassifier, LipschitzRegressor
    from sklipschitz.neural_network import SymNetClassifier, SymNetRegressor

    warnings.simplefilter("ignore")
    Xc, yc = load_breast_cancer(return_X_y=True)
    Xr, yr = load_diabetes(return_X_y=True)
    Xc, Xr = StandardScaler().fit_transform(Xc), StandardScaler().fit_transform(Xr)
    makers = {"SymNetClassifier": SymNetClassifier, "SymNetRegressor": SymNetRegressor,
              "LipschitzQuantileClassifier": LipschitzQuantileClassifier,
              "LipschitzRegressor": LipschitzRegressor}
    out = {"tree": os.path.dirname(os.path.dirname(sklipschitz.__file__))}
    for name in ESTIMATORS:
        classifier = "Classifier" in name
        X, y = (Xc, yc) if classifier else (Xr, yr)
        kw = {"classes": [0, 1]} if classifier else {}
        for rows in (1, 100):
            est = makers[name](random_state=0)
            est.partial_fit(X[:rows], y[:rows], **kw)  # the first call is not timed
            n = calls if rows == 1 else max(10, calls // 10)
            start = time.perf_counter()
            for i in range(n):
                s = (i * rows) % (len(y) - rows)
                est.partial_fit(X[s:s + rows], y[s:s + rows], **kw)
            out[f"{name} {rows}"] = 1e3 * (time.perf_counter() - start) / n
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", nargs="*", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure()))
        return
    trees = args.trees or [None]
    runs = {t: [] for t in trees}
    for _ in range(args.rounds):
        for t in trees:
            env = dict(os.environ, OMP_NUM_THREADS="1")
            if t is not None:
                env["PYTHONPATH"] = t
            res = subprocess.run([sys.executable, __file__, "--json"], env=env, check=True,
                                 capture_output=True, text=True, cwd=t or os.getcwd())
            runs[t].append(json.loads(res.stdout.strip().splitlines()[-1]))
    keys = [f"{n} {r}" for n in ESTIMATORS for r in (1, 100)]
    med = {t: {k: float(np.median([r[k] for r in runs[t]])) for k in keys} for t in trees}
    print(f"ms per partial_fit call (median of {args.rounds} rounds; first call not timed)")
    head = f"{'estimator, rows per call':<36}" + "".join(
        f"{(runs[t][0]['tree'][-24:]):>26}" for t in trees)
    print(head + ("   ratio" if len(trees) > 1 else ""))
    for k in keys:
        row = f"{k:<36}" + "".join(f"{med[t][k]:26.2f}" for t in trees)
        if len(trees) > 1:
            row += "".join(f"{med[t][k] / med[trees[0]][k]:8.2f}" for t in trees[1:])
        print(row)


if __name__ == "__main__":
    main()
