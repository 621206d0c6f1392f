"""A scaled D-GEX run: multi-target regression from landmark to target genes.

D-GEX (Chen et al., Bioinformatics 2016) maps 943 landmark genes to 9,520
target genes with hidden layers of 3,000-9,000 units; LipGene trains it
with two hidden A-ReLU layers at a computed learning rate.  Scaled to two
cores: 943 inputs, 2,000 targets, 5,000 training rows (1,000 test rows), two
hidden layers of 3,000 units, float32, 20 epochs at most, for
``SymNetRegressor`` (default rate, activations arelu and sbaf) and
scikit-learn's ``MLPRegressor`` (relu, Adam, default ``learning_rate_init``)
with the same layers, batch size and epochs.

The data are synthetic with the structure of expression data (no download):
50 latent programmes drive both gene sets, landmark genes linearly, target
genes through a saturating non-linearity, plus noise; every gene is
standardized on the training rows.

Each model runs in its own process so its peak resident memory
(``ru_maxrss``) is its own.

    OMP_NUM_THREADS=1 python benchmarks/bench_dgex.py [--quick]

``--quick``: 1,000 rows, 300 targets, layers of 500, 3 epochs.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np


def make_data(n_train, n_test, n_in, n_out, seed=0):
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    Z = rng.standard_normal((n, 50))
    X = Z @ rng.standard_normal((50, n_in)) / np.sqrt(50) + 0.5 * rng.standard_normal((n, n_in))
    H = np.tanh(Z @ rng.standard_normal((50, 200)) / np.sqrt(50) * 1.5)
    Y = H @ rng.standard_normal((200, n_out)) / np.sqrt(200)
    Y += 0.3 * rng.standard_normal((n, n_out))
    X = (X - X[:n_train].mean(0)) / X[:n_train].std(0)
    Y = (Y - Y[:n_train].mean(0)) / Y[:n_train].std(0)
    X, Y = X.astype(np.float32), Y.astype(np.float32)
    return X[:n_train], Y[:n_train], X[n_train:], Y[n_train:]


def run_one(model_name, cfg):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    from sklipschitz.neural_network import SymNetRegressor

    Xtr, Ytr, Xte, Yte = make_data(cfg["n_train"], 1000, 943, cfg["n_out"])
    layers = (cfg["width"],) * 2
    common = dict(hidden_layer_sizes=layers, batch_size=200, max_iter=cfg["epochs"],
                  random_state=0)
    if model_name == "mlp":
        model = MLPRegressor(**common)
    else:
        model = SymNetRegressor(activation=model_name.split("-")[1], **common)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        t0, c0 = time.perf_counter(), time.process_time()
        model.fit(Xtr, Ytr)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    pred = model.predict(Xte)
    mae = float(np.mean(np.abs(pred - Yte)))
    return {
        "model": model_name, "epochs": int(model.n_iter_), "mae": mae,
        "mae_mean_predictor": float(np.mean(np.abs(Yte - Ytr.mean(0)))),
        "wall_per_epoch": wall / model.n_iter_, "cpu_per_epoch": cpu / model.n_iter_,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "dtype": str(pred.dtype),
        "halvings": int(getattr(getattr(model, "_train_state", None), "halvings", 0)),
        "warnings": [str(w.message)[:90] for w in caught],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", default="mlp,symnet-arelu,symnet-sbaf",
                        help="comma-separated: mlp, symnet-<activation>")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--cfg", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, json.loads(args.cfg))))
        return
    cfg = (dict(n_train=1000, n_out=300, width=500, epochs=3) if args.quick
           else dict(n_train=5000, n_out=2000, width=3000, epochs=20))
    print(f"config: {cfg}, two hidden layers, float32, batch 200")
    print("| model | epochs | test MAE | MAE of the mean | wall s / epoch | CPU s / epoch "
          "| peak RSS MB | rate halvings |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.models.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--one", name, "--cfg", json.dumps(cfg)],
            capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        print(f"| {name} | {r['epochs']} | {r['mae']:.4f} | {r['mae_mean_predictor']:.4f} | "
              f"{r['wall_per_epoch']:.2f} | {r['cpu_per_epoch']:.2f} | {r['peak_rss_mb']:.0f} | "
              f"{r['halvings']} |",
              flush=True)
        for w in r["warnings"]:
            print(f"    warning ({name}): {w}")


if __name__ == "__main__":
    main()
