"""SymNet at depth 1-3 against a tuned MLP: 3-fold test score and epochs.

For 1, 2 and 3 hidden layers ((128,), (64, 64), (32, 32, 32)) and the
activations sbaf, arelu and relu, the default SymNet (no learning rate) is
compared with scikit-learn's MLPClassifier / MLPRegressor (relu, the same
layers, Adam) at its best ``learning_rate_init`` in {1e-4, 1e-3, 1e-2, 1e-1}
(chosen on the same test folds: an optimistic baseline).  Data: breast
cancer, digits, diabetes (X standardized inside the pipeline, y in its
units) and a synthetic 5-class problem (make_classification, 3000 x 20).

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_depth.py [--quick]

Prints one markdown table row per (data, depth): the MLP's score, epochs and
chosen rate, then score / epochs of each SymNet activation.  ``--quick``
runs one depth and two data sets.

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_depth.py --epoch-cost

measures instead the CPU time per epoch (``time.process_time`` of whole fits
of 10 epochs, setup included; 5 rounds alternating the models, the ratio to
the MLP of the same round, median over rounds) at one hidden layer of 2,000
units on 5,000 x 50 data, batch 200: MLPRegressor (relu) against
SymNetRegressor with relu, sbaf and arelu (the SymNet epoch includes its
constants and the guard's pass).

``--candidate VARIANT`` runs the table under one of the candidate changes of
``bench_symnet_stopping.py --candidates`` (patched for the run, not in the
package), e.g. ``--symnet-only --candidate release``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklipschitz.neural_network import SymNetClassifier, SymNetRegressor

DEPTHS = {1: (128,), 2: (64, 64), 3: (32, 32, 32)}
ACTIVATIONS = ("sbaf", "arelu", "relu")
MLP_RATES = (1e-4, 1e-3, 1e-2, 1e-1)


def _synthetic():
    return make_classification(
        n_samples=3000, n_features=20, n_informative=10, n_classes=5, n_clusters_per_class=2,
        random_state=0,
    )


DATA = {
    "breast cancer": (lambda: load_breast_cancer(return_X_y=True), True),
    "digits": (lambda: load_digits(return_X_y=True), True),
    "diabetes": (lambda: load_diabetes(return_X_y=True), False),
    "synthetic 5-class": (_synthetic, True),
}


def _cv(model, X, y, classifier):
    cv = (StratifiedKFold if classifier else KFold)(3, shuffle=True, random_state=0)
    t0 = time.process_time()
    res = cross_validate(make_pipeline(StandardScaler(), model), X, y, cv=cv,
                         return_estimator=True)
    cpu = time.process_time() - t0
    epochs = np.mean([est[-1].n_iter_ for est in res["estimator"]])
    return float(np.mean(res["test_score"])), float(epochs), cpu


def run(depths, datasets, mlp=True):
    print("| data | layers | MLP relu (tuned lr): score / epochs / lr / CPU s | "
          + " | ".join(f"SymNet {a}: score / epochs / CPU s" for a in ACTIVATIONS) + " |")
    print("| --- " * (3 + len(ACTIVATIONS)) + "|")
    for name in datasets:
        load, classifier = DATA[name]
        X, y = load()
        for depth in depths:
            layers = DEPTHS[depth]
            mlp_cls = MLPClassifier if classifier else MLPRegressor
            best = None
            for lr in MLP_RATES if mlp else ():
                score, ep, cpu = _cv(
                    mlp_cls(hidden_layer_sizes=layers, learning_rate_init=lr, random_state=0),
                    X, y, classifier,
                )
                if best is None or score > best[0]:
                    best = (score, ep, lr, cpu)
            if best is None:  # --symnet-only
                best = (-np.inf, np.nan, np.nan, np.nan)
            cells = [f"{best[0]:.4f} / {best[1]:.0f} / {best[2]:g} / {best[3]:.1f}"]
            sym_cls = SymNetClassifier if classifier else SymNetRegressor
            for act in ACTIVATIONS:
                score, ep, cpu = _cv(
                    sym_cls(hidden_layer_sizes=layers, activation=act, random_state=0),
                    X, y, classifier,
                )
                flag = "" if score >= best[0] - 0.02 else " (!)"
                cells.append(f"{score:.4f}{flag} / {ep:.0f} / {cpu:.1f}")
            print(f"| {name} | {layers} | " + " | ".join(cells) + " |", flush=True)


def epoch_cost(width=2000, n=5000, d=50, epochs=10, repeats=5):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = np.tanh(X @ rng.standard_normal(d) / np.sqrt(d)) + 0.1 * rng.standard_normal(n)
    common = dict(hidden_layer_sizes=(width,), batch_size=200, max_iter=epochs, tol=0.0,
                  n_iter_no_change=epochs + 1, random_state=0)
    models = {"MLPRegressor relu": lambda: MLPRegressor(activation="relu", **common)}
    for act in ("relu", "sbaf", "arelu"):
        models[f"SymNetRegressor {act}"] = lambda a=act: SymNetRegressor(activation=a, **common)
    # rounds alternate the models (the machine's load changes over time); the
    # ratio is taken within each round against that round's MLP, then the median
    times = {name: [] for name in models}
    for _ in range(repeats):
        for name, make in models.items():
            model = make()
            t0 = time.process_time()
            model.fit(X, y)
            times[name].append((time.process_time() - t0) / model.n_iter_)
    base = np.array(times["MLPRegressor relu"])
    print(f"| model ({n} x {d}, one hidden layer of {width}, batch 200, {epochs} epochs) "
          "| CPU s / epoch (median) | ratio to MLP (median over rounds) |")
    print("| --- | --- | --- |")
    for name, ts in times.items():
        ratio = float(np.median(np.array(ts) / base))
        print(f"| {name} | {np.median(ts):.3f} | {ratio:.2f} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epoch-cost", action="store_true")
    parser.add_argument("--data", nargs="+", choices=list(DATA), default=list(DATA),
                        help="data sets of the table (default: all)")
    parser.add_argument("--depths", nargs="+", type=int, choices=list(DEPTHS),
                        default=list(DEPTHS), help="depths of the table (default: 1 2 3)")
    parser.add_argument("--symnet-only", action="store_true",
                        help="skip the MLP grid (its column then reads -inf)")
    parser.add_argument("--candidate", default="current",
                        help="run the SymNet columns under a candidate change of "
                             "bench_symnet_stopping.py --candidates (a patch for this run)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.epoch_cost:
        epoch_cost()
    elif args.quick:
        run([2], ["breast cancer", "diabetes"])
    else:
        undo = None
        if args.candidate != "current":
            import os
            import sys

            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            from bench_symnet_stopping import CANDIDATES, _apply

            if args.candidate not in CANDIDATES:
                parser.error(f"--candidate must be one of {CANDIDATES}")
            undo = _apply(args.candidate)
        try:
            run(args.depths, args.data, mlp=not args.symnet_only)
        finally:
            if undo is not None:
                undo()


if __name__ == "__main__":
    main()
