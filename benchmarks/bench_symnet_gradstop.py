"""SymNet stopped on gradient evidence (no validation set), measured as a candidate.

The evidence-based criterion of Mahsereci, Balles, Lassner & Hennig, "Early
Stopping without a Validation Set" (arXiv 1703.09580, 2017), in
``sklipschitz/_engine/evidence.py``, added to the plateau rule (either one
stops): the variant through the private switches of ``_symnet_base``
(``_EVIDENCE``, ``_EVIDENCE_WINDOW``, ``_EVIDENCE_PATIENCE``) and the
threshold through the estimators' default ``evidence_tol`` (patched):

* ``rows`` -- every layer, the rows' gradient variance ``(A^2)' (Delta^2)``;
* ``output`` -- the output layer only;
* ``batches`` -- the variance across the epoch's mini-batch gradients;
* ``current`` -- the plateau rule alone (``evidence_tol=None``).

A variant name may carry a window, ``rows@30`` (the criterion's mean over the
last 30 batches instead of the epoch's), a patience, ``rows:2`` (the
criterion positive in 2 consecutive epochs) and a threshold, ``rows:1:0.1``
(stop when EB > 0.1).  ``evidence_tol=0`` is ``rows@30:3``; the package's
default is ``current`` (``evidence_tol=None``).

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_gradstop.py --cells [VARIANT ...]

prints 3-fold test score / mean ``n_iter_`` of the 8 cells of
``bench_symnet_stopping.py --diagnose`` and the 9 diabetes cells of the depth
table (the protocol of ``bench_symnet_depth.py``: StandardScaler in a
pipeline, seed 0; ``(!)``: more than 0.02 below the tuned MLP of
docs/symnet.md's table).

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_gradstop.py --trace VARIANT

prints, for the same cells, the criterion's epoch values of the first fold
(fit with the plateau rule only, so that the whole curve is seen).

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_gradstop.py --compare VARIANT

runs ``sklipschitz compare --tasks '*-mlp' --no-progress`` under the variant.

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_gradstop.py --compare-cells VARIANT ...

fits the SymNet side of compare's imbalanced, digits and breast-cancer tasks
alone (its folds), score / mean ``n_iter_`` per variant.

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_gradstop.py --table VARIANT
        [--data ...] [--depths ...]

runs the SymNet columns of ``bench_symnet_depth.py --symnet-only`` under the
variant.

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_gradstop.py --cost

prints the CPU time per epoch of each variant against the plateau rule
alone, measured in the same run (10 epochs, stopping off, alternated, medians
of 5): the ratio is the criterion's cost per epoch.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklipschitz import _symnet_base
from sklipschitz.neural_network import SymNetClassifier, SymNetRegressor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_symnet_depth import DATA, DEPTHS, _cv  # noqa: E402
# the cells of bench_symnet_stopping.py --diagnose: data, activation, layers,
# tuned MLP score and epochs (docs/symnet.md, depth table)
from bench_symnet_stopping import DIAGNOSED  # noqa: E402

VARIANTS = ("current", "rows", "output", "batches")

DIABETES = [("diabetes", act, layers, mlp, 200)
            for layers, mlp in (((128,), 0.4878), ((64, 64), 0.4562), ((32, 32, 32), 0.4331))
            for act in ("sbaf", "arelu", "relu")]


class _Variant:
    """Set the private switches for ``name`` ('mode[:patience[:threshold]]')."""

    def __init__(self, name):
        mode, *rest = name.split(":")
        mode, _, window = mode.partition("@")
        self.window = int(window) if window else None
        self.mode = None if mode == "current" else mode
        self.patience = int(rest[0]) if rest else 1
        self.threshold = float(rest[1]) if len(rest) > 1 else 0.0

    def __enter__(self):
        b = _symnet_base
        self.saved = (b._EVIDENCE, b._EVIDENCE_PATIENCE, b._EVIDENCE_WINDOW,
                      _default_tol())
        if self.mode is not None:
            b._EVIDENCE, b._EVIDENCE_PATIENCE, b._EVIDENCE_WINDOW = (
                self.mode, self.patience, self.window)
        _set_default_tol(None if self.mode is None else self.threshold)
        return self

    def __exit__(self, *exc):
        b = _symnet_base
        b._EVIDENCE, b._EVIDENCE_PATIENCE, b._EVIDENCE_WINDOW, tol = self.saved
        _set_default_tol(tol)


def _default_tol():
    return SymNetClassifier.__init__.__kwdefaults__["evidence_tol"]


def _set_default_tol(value):
    # the estimators' default evidence_tol (clone and cross_validate keep it)
    for cls in (SymNetClassifier, SymNetRegressor):
        cls.__init__.__kwdefaults__["evidence_tol"] = value


def _model(name, act, layers, **kw):
    classifier = DATA[name][1]
    cls = SymNetClassifier if classifier else SymNetRegressor
    return cls(hidden_layer_sizes=layers, activation=act, random_state=0, **kw), classifier


def cells(variants, which):
    rows = {"diagnosed": DIAGNOSED, "diabetes": DIABETES, "all": DIAGNOSED + DIABETES}[which]
    print("| cell | tuned MLP | " + " | ".join(variants) + " |")
    print("| --- " * (2 + len(variants)) + "|")
    for name, act, layers, mlp_score, mlp_epochs in rows:
        X, y = DATA[name][0]()
        out = []
        for variant in variants:
            with _Variant(variant):
                model, classifier = _model(name, act, layers)
                score, epochs, _ = _cv(model, X, y, classifier)
            flag = " (!)" if score < mlp_score - 0.02 else ""
            out.append(f"{score:.4f}{flag} / {epochs:.0f}")
        print(f"| {name} {layers} {act} | {mlp_score:.4f} / {mlp_epochs} | "
              + " | ".join(out) + " |", flush=True)


def trace(variant, which):
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    rows = {"diagnosed": DIAGNOSED, "diabetes": DIABETES, "all": DIAGNOSED + DIABETES}[which]
    v = _Variant(variant)
    for name, act, layers, _, _ in rows:
        X, y = DATA[name][0]()
        model, classifier = _model(name, act, layers)
        cv = (StratifiedKFold if classifier else KFold)(3, shuffle=True, random_state=0)
        tr, _ = next(cv.split(X, y))
        Xtr = StandardScaler().fit_transform(X[tr])
        with _Variant(variant):
            # observe only: a threshold no epoch reaches
            model.set_params(evidence_tol=0.999999)
            model.fit(Xtr, y[tr])
        curve = model._evidence_curve or []
        first = next((t + 1 for t, e in enumerate(curve) if e > v.threshold), None)
        print(f"{name} {layers} {act}: {model.n_iter_} epochs, first EB > {v.threshold:g} "
              f"at {first}; EB every 5th epoch: "
              + " ".join(f"{e:.3f}" for e in curve[4::5]), flush=True)


def compare(variant):
    from sklipschitz.cli import main as cli

    with _Variant(variant):
        return cli(["compare", "--tasks", "*-mlp", "--no-progress"])


def compare_cells(variants, tasks=("imbalanced", "digits", "breast-cancer")):
    """The SymNet side of compare's classifier tasks alone (its folds: stratified
    5-fold, seed 0, StandardScaler; score / mean n_iter_)."""
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklipschitz.cli.compare._tasks import DATASETS

    print("| compare task | " + " | ".join(variants) + " |")
    print("| --- " * (1 + len(variants)) + "|")
    for name in tasks:
        X, y = DATASETS[name].load(False, 0)
        scorer = get_scorer("roc_auc" if name == "imbalanced" else "accuracy")
        out = []
        for variant in variants:
            scores, epochs = [], []
            with _Variant(variant):
                for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
                    pipe = make_pipeline(StandardScaler(), SymNetClassifier(random_state=0))
                    pipe.fit(X[tr], y[tr])
                    scores.append(scorer(pipe, X[te], y[te]))
                    epochs.append(pipe[-1].n_iter_)
            out.append(f"{np.mean(scores):.4f} / {np.mean(epochs):.0f}")
        print(f"| {name} | " + " | ".join(out) + " |", flush=True)


def table(variant, depths, datasets):
    from bench_symnet_depth import run

    with _Variant(variant):
        run(depths, datasets, mlp=False)


def cost(variants=("rows", "output", "batches"), repeats=5, epochs=10):
    """CPU time of 10 epochs per variant against the plateau rule alone (medians)."""
    from sklearn.datasets import make_classification, make_regression

    from sklipschitz.cli.compare._tasks import DATASETS

    setups = [
        ("classifier (100,) sbaf, compare's imbalanced 5000 x 20",
         DATASETS["imbalanced"].load(False, 0), SymNetClassifier, (100,), "sbaf"),
        ("classifier (32, 32, 32) relu, 2000 x 20", make_classification(
            n_samples=2000, n_features=20, n_informative=10, n_classes=5,
            random_state=0), SymNetClassifier, (32, 32, 32), "relu"),
        ("classifier (64, 64) sbaf, 2000 x 20", make_classification(
            n_samples=2000, n_features=20, n_informative=10, n_classes=5,
            random_state=0), SymNetClassifier, (64, 64), "sbaf"),
        ("regressor (2000,) relu, 5000 x 50", make_regression(
            n_samples=5000, n_features=50, random_state=0), SymNetRegressor, (2000,), "relu"),
    ]
    print("| setup | plateau rule: CPU s / epoch | "
          + " | ".join(f"{v}: ratio" for v in variants) + " |")
    print("| --- " * (2 + len(variants)) + "|")
    for label, (X, y), cls, layers, act in setups:
        times = {v: [] for v in ("current", *variants)}
        for _ in range(repeats):
            for v in ("current", *variants):
                with _Variant(v):
                    est = cls(hidden_layer_sizes=layers, activation=act, random_state=0,
                              max_iter=epochs, tol=0.0, n_iter_no_change=epochs,
                              progress_tol=0.0)
                    if v != "current":
                        est.set_params(evidence_tol=0.999999)  # observe, never stop
                    t0 = time.process_time()
                    est.fit(X, y)
                    times[v].append((time.process_time() - t0) / est.n_iter_)
        base = float(np.median(times["current"]))
        print(f"| {label} | {base:.4f} | "
              + " | ".join(f"{np.median(times[v]) / base:.3f}" for v in variants) + " |",
              flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--cells", nargs="*", metavar="VARIANT",
                       help=f"score / epochs of the diagnosed and diabetes cells ({VARIANTS})")
    group.add_argument("--trace", metavar="VARIANT")
    group.add_argument("--compare", metavar="VARIANT")
    group.add_argument("--table", metavar="VARIANT")
    group.add_argument("--compare-cells", nargs="+", metavar="VARIANT",
                       help="compare's imbalanced, digits, breast-cancer SymNet fits alone")
    group.add_argument("--cost", action="store_true")
    parser.add_argument("--which", choices=("diagnosed", "diabetes", "all"), default="all",
                        help="--cells / --trace: which cells")
    parser.add_argument("--data", nargs="+", choices=list(DATA), default=list(DATA))
    parser.add_argument("--depths", nargs="+", type=int, choices=list(DEPTHS),
                        default=list(DEPTHS))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.cells is not None:
        cells(args.cells or list(VARIANTS), args.which)
    elif args.trace:
        trace(args.trace, args.which)
    elif args.compare:
        return compare(args.compare)
    elif args.compare_cells:
        compare_cells(args.compare_cells)
    elif args.table:
        table(args.table, args.depths, args.data)
    else:
        cost()
    return 0


if __name__ == "__main__":
    sys.exit(main())
