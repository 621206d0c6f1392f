"""Command-line input/output: the table reader and the safe model files.

Two tables:

1. Reading a numeric table of ``--rows`` rows and 21 columns with
   ``sklipschitz.cli._io.read_table`` (standard library: decompression,
   decoding, delimiter detection, ``csv``) from a plain CSV and from the same
   file gzip-compressed, against pandas' ``read_csv`` with every cell read as
   text (``dtype=str, keep_default_na=False``: what the command line needs, as
   it checks every cell itself), when pandas is installed.  Reported: the
   median time of ``--repeat`` alternated runs and the ratio to pandas.
2. Saving and loading every public estimator (fitted on diabetes or iris)
   with ``sklipschitz.cli.modelfile`` (zip of ``.npy`` arrays and JSON, loaded
   without running code) against ``joblib`` (a pickle): file size, and median
   dump and load times as ratios to joblib's.

Timings on a shared machine are noisy: compare the ratios, measured in the
same run with the runs alternated.

    OMP_NUM_THREADS=1 python benchmarks/bench_cli_io.py [--rows 50000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import statistics
import tempfile
import time
import warnings

import joblib
import numpy as np
from sklearn.datasets import load_diabetes, load_iris

import sklipschitz
from sklipschitz.cli import _io, modelfile


def _time(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _medians(functions, repeat):
    """Median time of each function, the runs alternated."""
    times = {name: [] for name in functions}
    for _ in range(repeat):
        for name, fn in functions.items():
            times[name].append(_time(fn))
    return {name: statistics.median(ts) for name, ts in times.items()}


def bench_tables(rows, repeat, directory):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 21))
    plain = os.path.join(directory, "t.csv")
    header = ",".join([f"x{j}" for j in range(20)] + ["y"])
    np.savetxt(plain, X, delimiter=",", header=header, comments="", fmt="%.17g")
    packed = plain + ".gz"
    with open(plain, "rb") as f, gzip.open(packed, "wb") as g:
        g.write(f.read())
    functions = {
        "read_table, csv": lambda: _io.read_table(plain),
        "read_table, csv.gz": lambda: _io.read_table(packed),
    }
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None:
        functions["pandas, csv"] = lambda: pd.read_csv(plain, dtype=str,
                                                       keep_default_na=False)
        functions["pandas, csv.gz"] = lambda: pd.read_csv(packed, dtype=str,
                                                          keep_default_na=False)
    med = _medians(functions, repeat)
    print(f"Reading a table of {rows} rows x 21 columns "
          f"({os.path.getsize(plain) / 1e6:.1f} MB, gzip {os.path.getsize(packed) / 1e6:.1f} MB), "
          f"median of {repeat}")
    print(f"{'reader':<22}{'time (s)':>10}{'vs pandas':>11}")
    for name, t in med.items():
        ref = med.get("pandas, " + name.split(", ")[1])
        ratio = f"{t / ref:.2f}x" if ref else "n/a"
        print(f"{name:<22}{t:>10.3f}{ratio:>11}")


def _estimators():
    Xr, yr = load_diabetes(return_X_y=True)
    Xr = (Xr - Xr.mean(0)) / Xr.std(0)
    Xc, yc = load_iris(return_X_y=True)
    return [
        ("LipschitzRegressor", sklipschitz.LipschitzRegressor(), Xr, yr),
        ("LipschitzRegressor (gd)", sklipschitz.LipschitzRegressor(solver="gd"), Xr, yr),
        ("LipschitzQuantileClassifier", sklipschitz.LipschitzQuantileClassifier(), Xc, yc),
        ("SymNetClassifier", sklipschitz.SymNetClassifier(random_state=0), Xc, yc),
        ("SymNetRegressor", sklipschitz.SymNetRegressor(random_state=0), Xr, yr),
        ("SBAFRandomFeatures", sklipschitz.SBAFRandomFeatures(random_state=0), Xr, yr),
    ]


def bench_models(repeat):
    print(f"\nModel files: safe format vs joblib (pickle), median of {repeat}")
    print(f"{'estimator':<30}{'size (kB)':>10}{'joblib kB':>10}{'dump ratio':>11}"
          f"{'load ratio':>11}{'same output':>12}")
    for name, est, X, y in _estimators():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        safe, pickled = io.BytesIO(), io.BytesIO()
        modelfile.dump(est, safe)
        joblib.dump(est, pickled)
        safe_bytes, pickle_bytes = safe.getvalue(), pickled.getvalue()
        med = _medians({
            "dump": lambda: modelfile.dump(est, io.BytesIO()),
            "joblib dump": lambda: joblib.dump(est, io.BytesIO()),
            "load": lambda: modelfile.load(io.BytesIO(safe_bytes)),
            "joblib load": lambda: joblib.load(io.BytesIO(pickle_bytes)),
        }, repeat)
        loaded = modelfile.load(io.BytesIO(safe_bytes))
        method = "transform" if hasattr(est, "transform") else "predict"
        same = np.array_equal(getattr(loaded, method)(X), getattr(est, method)(X))
        print(f"{name:<30}{len(safe_bytes) / 1e3:>10.1f}{len(pickle_bytes) / 1e3:>10.1f}"
              f"{med['dump'] / med['joblib dump']:>10.1f}x"
              f"{med['load'] / med['joblib load']:>10.1f}x{str(same):>12}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        bench_tables(args.rows, args.repeat, directory)
    bench_models(args.repeat)


if __name__ == "__main__":
    main()
