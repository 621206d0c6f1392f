"""SymNet beyond the benchmark's settings: no NaN, no constant predictor without a warning.

Fits (``--part fits``) and ``partial_fit`` streams (``--part streams``) of
both SymNet estimators on standardized diabetes (y in its units) and
standardized breast cancer, over activations, widths, depths, target scales,
constant and duplicated columns, ``class_weight``, and one positive in 5,000
rows (``--part imbalance``).  Each line: the training score (R², accuracy, or
the AUC of ``predict_proba`` for the imbalanced data) and a verdict:
``ok``, ``warned`` (a ``ConvergenceWarning``, shown), ``SILENT`` (a constant
predictor -- R² <= 0, accuracy or AUC at the majority's -- without a
warning) or ``NAN``.  Streams: rows 0-299 in chunks of ``--chunk`` rows
(scored on all rows), seeds 0 and 1.

    python benchmarks/bench_symnet_silent.py --part fits|targets|imbalance|streams
        [--chunk 1] [--activations sbaf arelu relu tanh logistic]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from sklipschitz import SymNetClassifier, SymNetRegressor


def run(tag, est, X, y, *, chunk=None, rows=None, auc=False):
    """Fit (or stream the first ``rows`` rows in chunks) and score on all of ``X``."""
    classifier = isinstance(est, SymNetClassifier)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if chunk:
            for s in range(0, rows, chunk):
                kw = {"classes": np.unique(y)} if classifier else {}
                est.partial_fit(X[s:s + chunk], y[s:s + chunk], **kw)
        else:
            est.fit(X, y)
    warned = [str(w.message)[:60] for w in caught if issubclass(w.category, ConvergenceWarning)]
    if classifier:
        P = est.predict_proba(X)
        nan = not (np.isfinite(P).all() and np.isfinite(est.predict_log_proba(X)).all())
        score = roc_auc_score(y, P[:, 1]) if auc else est.score(X, y)
        floor = 0.5 if auc else max(np.mean(y == c) for c in np.unique(y))
        constant = np.ptp(P[:, 1]) < 1e-6 or score <= floor + 1e-9
    else:
        p = est.predict(X)
        nan = not np.isfinite(p).all()
        score = est.score(X, y)
        constant = score <= 0.0
    verdict = "NAN" if nan else "SILENT" if constant and not warned else (
        "warned" if warned else "ok")
    print(f"{tag:<52} {score:7.3f}  {verdict:<7} {warned[:1]}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["fits", "targets", "imbalance", "streams"],
                        default="fits")
    parser.add_argument("--chunk", type=int, default=1)
    parser.add_argument("--activations", nargs="+",
                        default=["sbaf", "arelu", "relu", "tanh", "logistic"])
    args = parser.parse_args()
    Xc, yc = load_breast_cancer(return_X_y=True)
    Xc = StandardScaler().fit_transform(Xc)
    Xd, yd = load_diabetes(return_X_y=True)
    Xd = StandardScaler().fit_transform(Xd)
    acts = args.activations
    if args.part == "fits":
        for act in acts:
            for layers in [(8,), (512,), (32,) * 4, (32,) * 5, (8,) * 4]:
                for seed in (0, 1):
                    kw = dict(hidden_layer_sizes=layers, activation=act, random_state=seed)
                    run(f"reg {act} {layers} seed {seed}", SymNetRegressor(**kw), Xd, yd)
                    run(f"clf {act} {layers} seed {seed}", SymNetClassifier(**kw), Xc, yc)
    elif args.part == "targets":
        for act in acts:
            for factor in (1e-3, 1e4):
                for nz in (True, False):
                    run(f"reg {act} y x {factor:g} normalize_y={nz}",
                        SymNetRegressor(activation=act, normalize_y=nz, random_state=0),
                        Xd, yd * factor)
            Xr = np.hstack([Xd, np.full((Xd.shape[0], 2), 3.0), Xd[:, :3], Xd[:, :3]])
            run(f"reg {act} constant + duplicated columns",
                SymNetRegressor(activation=act, random_state=0), Xr, yd)
            Xk = np.hstack([Xc, np.full((Xc.shape[0], 2), -5.0), Xc[:, :5]])
            run(f"clf {act} constant + duplicated columns",
                SymNetClassifier(activation=act, random_state=0), Xk, yc)
            run(f"clf {act} class_weight='balanced'",
                SymNetClassifier(activation=act, class_weight="balanced", random_state=0),
                Xc, yc)
    elif args.part == "imbalance":
        rng = np.random.RandomState(0)
        X = rng.standard_normal((5000, 5))
        y = np.zeros(5000, dtype=int)
        y[17] = 1
        X[17] += 3.0
        for act in acts:
            for cw in (None, "balanced"):
                run(f"1 in 5,000 {act} (32, 32, 32) class_weight={cw}",
                    SymNetClassifier(hidden_layer_sizes=(32, 32, 32), activation=act,
                                     class_weight=cw, random_state=0), X, y, auc=True)
    else:
        for act in acts:
            for layers in [(100,), (32, 32, 32)]:
                for seed in (0, 1):
                    kw = dict(hidden_layer_sizes=layers, activation=act, random_state=seed)
                    run(f"stream {args.chunk} reg {act} {layers} seed {seed}",
                        SymNetRegressor(**kw), Xd, yd, chunk=args.chunk, rows=300)
                    run(f"stream {args.chunk} clf {act} {layers} seed {seed}",
                        SymNetClassifier(**kw), Xc, yc, chunk=args.chunk, rows=300)


if __name__ == "__main__":
    main()
