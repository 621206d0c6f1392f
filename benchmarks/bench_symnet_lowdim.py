"""SymNet on low-dimensional nonlinear problems: 3-fold test score against MLP.

The default SymNet (no learning rate) on problems of 1-10 features whose
targets bend within the data (sin(3x) on one feature, Friedman #1, two
moons, two circles, Gaussian quantiles, Hastie's 10.2), beside diabetes,
digits and breast cancer as checks, with one hidden layer of 100 units and
two of 64.  Cells: the mean 3-fold test score (R^2 or accuracy; features
standardized inside the pipeline, targets in their units) over the
estimator seeds 0-2, and its range.  The MLP column is scikit-learn's
default MLPClassifier / MLPRegressor (relu, Adam, ``learning_rate_init=1e-3``,
``max_iter=1000``), seed 0.

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_lowdim.py [--activations sbaf relu]
        [--problems sin circles] [--no-mlp]

Run it with ``PYTHONPATH=<tree>`` to compare two versions of the package.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklipschitz.neural_network import SymNetClassifier, SymNetRegressor

LAYERS = ((100,), (64, 64))


def _sine():
    x = np.random.default_rng(1).uniform(-3, 3, 600)
    noise = 0.1 * np.random.default_rng(0).standard_normal(600)
    return x[:, None], np.sin(3 * x) + noise


PROBLEMS = {
    # name: (loader, classifier)
    "sin(3x), 1 feature": (_sine, False),
    "friedman1": (lambda: datasets.make_friedman1(1000, noise=1.0, random_state=0), False),
    "diabetes": (lambda: datasets.load_diabetes(return_X_y=True), False),
    "moons": (lambda: datasets.make_moons(1000, noise=0.25, random_state=0), True),
    "circles": (lambda: datasets.make_circles(1000, noise=0.1, factor=0.5, random_state=0),
                True),
    "gaussian quantiles": (lambda: datasets.make_gaussian_quantiles(
        n_samples=1500, n_features=6, n_classes=3, random_state=0), True),
    "hastie 10.2": (lambda: datasets.make_hastie_10_2(2000, random_state=0), True),
    "digits": (lambda: datasets.load_digits(return_X_y=True), True),
    "breast cancer": (lambda: datasets.load_breast_cancer(return_X_y=True), True),
}


def _score(model, X, y, classifier):
    cv = (StratifiedKFold if classifier else KFold)(3, shuffle=True, random_state=0)
    return float(cross_val_score(make_pipeline(StandardScaler(), model), X, y, cv=cv).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--activations", nargs="+", default=["sbaf"])
    parser.add_argument("--problems", nargs="+", choices=list(PROBLEMS), default=list(PROBLEMS))
    parser.add_argument("--no-mlp", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    head = ["problem", "layers"] + ([] if args.no_mlp else ["MLP (default)"])
    head += [f"SymNet {a}: mean [min-max] (CPU s)" for a in args.activations]
    print("| " + " | ".join(head) + " |")
    print("| --- " * len(head) + "|")
    for name in args.problems:
        load, classifier = PROBLEMS[name]
        X, y = load()
        mlp_cls, sym_cls = ((MLPClassifier, SymNetClassifier) if classifier
                            else (MLPRegressor, SymNetRegressor))
        for layers in LAYERS:
            cells = [name, str(layers)]
            if not args.no_mlp:
                mlp = mlp_cls(hidden_layer_sizes=layers, max_iter=1000, random_state=0)
                cells.append(f"{_score(mlp, X, y, classifier):.3f}")
            for act in args.activations:
                t0 = time.process_time()
                scores = [_score(sym_cls(hidden_layer_sizes=layers, activation=act,
                                         random_state=seed), X, y, classifier)
                          for seed in range(3)]
                cells.append(f"{np.mean(scores):.3f} [{min(scores):.3f}-{max(scores):.3f}] "
                             f"({time.process_time() - t0:.1f})")
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
