"""Benchmark of the SBAF kernel: accuracy, random features, Gram time, PSD.

Usage::

    python benchmarks/bench_kernel.py            # full run
    python benchmarks/bench_kernel.py --quick    # smaller grids and sizes

Prints four tables and writes ``benchmarks/results/bench_kernel.png``:

1. Accuracy (breast cancer, wine, digits; StandardScaler + SVC in a Pipeline;
   nested cross-validation: outer stratified 5-fold, hyper-parameters tuned by
   ``GridSearchCV`` with an inner stratified 5-fold on each outer training set)
   for SVC with the SBAF kernel ((C, k) tuned; ``shift=0`` and ``shift=1``),
   the RBF kernel ((C, gamma) tuned) and the homogeneous polynomial
   ("Cobb-Douglas" ``gamma (x.z)^d``) kernel ((C, d) tuned).
2. Random features: relative Frobenius error of ``Phi Phi^T`` against the exact
   Gram matrix versus the number of features, and accuracy of a linear SVM on
   2,000 features versus the exact-kernel SVM.
3. Time of the Gram matrix (n = 5,000, d = 30) relative to
   ``sklearn.metrics.pairwise.rbf_kernel`` on the same data in the same run.
4. Smallest eigenvalue of the reciprocal kernel ``1 / (1 + (x.z)^d)`` of the
   original code (not PSD) next to the SBAF kernel's.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from threadpoolctl import ThreadpoolController

from sklipschitz.kernels import SBAFKernel, SBAFRandomFeatures, sbaf_kernel

DATASETS = {"breast_cancer": load_breast_cancer, "wine": load_wine, "digits": load_digits}
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def _table(title, header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(header, widths))
    print(f"\n{title}\n{line}\n{'-' * len(line)}")
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def _methods(quick):
    C = [0.1, 1, 10, 100] if quick else [0.1, 1, 10, 100, 1000]
    ks = [0.25, 0.91, 4.0] if quick else [0.1, 0.25, 0.5, 0.91, 2.0, 4.0]
    gammas = list(np.logspace(-4, 0, 5 if quick else 9))
    degrees = [1, 2, 3] if quick else [1, 2, 3, 4]
    return {
        "SBAF shift=0 (C,k)": (
            SVC(kernel=SBAFKernel(shift=0.0)), {"svc__C": C, "svc__kernel__k": ks}
        ),
        "SBAF default shift=1 (C,k)": (
            SVC(kernel=SBAFKernel()), {"svc__C": C, "svc__kernel__k": ks}
        ),
        "RBF (C,gamma)": (SVC(kernel="rbf"), {"svc__C": C, "svc__gamma": gammas}),
        "poly/Cobb-Douglas (C,d)": (
            SVC(kernel="poly", coef0=0.0, gamma="scale"),
            {"svc__C": C, "svc__degree": degrees},
        ),
    }


def bench_accuracy(quick):
    n_outer = 3 if quick else 5
    n_inner = 3 if quick else 5
    rows, scores = [], {}
    for name, loader in DATASETS.items():
        X, y = loader(return_X_y=True)
        outer = StratifiedKFold(n_outer, shuffle=True, random_state=0)
        inner = StratifiedKFold(n_inner, shuffle=True, random_state=1)
        for label, (svc, grid) in _methods(quick).items():
            t0 = time.perf_counter()
            gs = GridSearchCV(make_pipeline(StandardScaler(), svc), grid, cv=inner)
            with warnings.catch_warnings():
                # standardized digits test folds contain pixels that are
                # constant in the training fold: huge values, warned about
                warnings.simplefilter("ignore", UserWarning)
                s = cross_val_score(gs, X, y, cv=outer)
            scores[(name, label)] = s.mean()
            rows.append([name, label, f"{s.mean():.4f}", f"{s.std():.4f}",
                         f"{time.perf_counter() - t0:.1f}"])
            print(f"  {name:14s} {label:24s} {s.mean():.4f}", flush=True)
    for name in DATASETS:
        rbf = scores[(name, "RBF (C,gamma)")]
        for label in _methods(quick):
            if label.startswith("SBAF"):
                rows.append([name, f"{label} - RBF", f"{scores[(name, label)] - rbf:+.4f}", "", ""])
    _table(f"Accuracy: nested CV ({n_outer}-fold outer, GridSearchCV {n_inner}-fold inner)",
           ["dataset", "method", "accuracy", "std", "time_s"], rows)
    return scores


def _rf_error(X, K, D, seed):
    F = SBAFRandomFeatures(D, random_state=seed).fit_transform(X)
    return np.linalg.norm(F @ F.T - K) / np.linalg.norm(K)


def bench_random_features(quick):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    K = sbaf_kernel(X)
    Ds = [50, 100, 200, 500, 1000, 2000] + ([] if quick else [5000])
    seeds = range(2 if quick else 3)
    rows, errs = [], []
    for D in Ds:
        e = np.mean([_rf_error(X, K, D, seed) for seed in seeds])
        errs.append(e)
        rows.append([D, f"{e:.4f}", f"{e * np.sqrt(D):.3f}"])
    _table("Random features: relative Frobenius error ||Phi Phi^T - K||_F / ||K||_F "
           "(breast cancer, standardized)",
           ["n_components", "rel_error", "rel_error*sqrt(D)"], rows)

    C = [1, 10, 100] if quick else [0.1, 1, 10, 100, 1000]
    cv = StratifiedKFold(3 if quick else 5, shuffle=True, random_state=0)
    rows = []
    for name, loader in DATASETS.items():
        X, y = loader(return_X_y=True)
        exact = GridSearchCV(make_pipeline(StandardScaler(), SVC(kernel=SBAFKernel())),
                             {"svc__C": C}, cv=3)
        approx = GridSearchCV(
            make_pipeline(StandardScaler(), SBAFRandomFeatures(2000, random_state=0),
                          LinearSVC(max_iter=20000)),
            {"linearsvc__C": C}, cv=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            se = cross_val_score(exact, X, y, cv=cv).mean()
            sa = cross_val_score(approx, X, y, cv=cv).mean()
        rows.append([name, f"{se:.4f}", f"{sa:.4f}", f"{sa - se:+.4f}"])
    _table("Random features: accuracy, exact kernel SVC vs LinearSVC on 2,000 SBAF features "
           "(C tuned, k=0.91, alpha=0.5)", ["dataset", "exact_SVC", "rf_LinearSVC", "diff"], rows)
    return Ds, errs


def _best_time(f, repeat):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_time(quick):
    n, d = (2000, 30) if quick else (5000, 30)
    X = np.random.default_rng(0).standard_normal((n, d))
    repeat = 3
    t_rbf = _best_time(lambda: rbf_kernel(X), repeat)
    rows = [["rbf_kernel", f"{t_rbf:.3f}", "1.0"]]
    with ThreadpoolController().limit(limits=1, user_api="blas"):
        t1 = _best_time(lambda: rbf_kernel(X), repeat)
    rows.append(["rbf_kernel (1 BLAS thread)", f"{t1:.3f}", f"{t1 / t_rbf:.1f}"])
    for label, kw in [("sbaf_kernel (default: alpha=0.5, shift=1)", {}),
                      ("sbaf_kernel (alpha=0.3)", {"alpha": 0.3}),
                      ("sbaf_kernel (shift=0)", {"shift": 0.0}),
                      ("sbaf_kernel (tol=1e-6)", {"tol": 1e-6})]:
        t = _best_time(lambda: sbaf_kernel(X, **kw), repeat)
        rows.append([label, f"{t:.3f}", f"{t / t_rbf:.1f}"])
    _table(f"Gram matrix time, n={n}, d={d} (best of {repeat}; sbaf_kernel runs its BLAS "
           "products on one thread)", ["kernel", "seconds", "x rbf_kernel"], rows)


def bench_psd():
    X = np.random.default_rng(0).standard_normal((60, 5))
    G = X @ X.T
    rows = []
    for deg in (2, 4):
        R = 1.0 / (1.0 + G**deg)
        ev = np.linalg.eigvalsh(R)
        rows.append([f"reciprocal 1/(1+(x.z)^{deg})", f"{ev.min():.3f}", f"{ev.max():.3f}"])
    for deg in (2, 3):
        ev = np.linalg.eigvalsh(G**deg)
        rows.append([f"Cobb-Douglas (x.z)^{deg}", f"{ev.min():.3g}", f"{ev.max():.3g}"])
    for kw in ({}, {"alpha": 0.3}, {"shift": 0.0}):
        ev = np.linalg.eigvalsh(sbaf_kernel(X, **kw))
        label = "SBAF " + (", ".join(f"{a}={b}" for a, b in kw.items()) or "default")
        rows.append([label, f"{ev.min():.2e}", f"{ev.max():.3f}"])
    _table("PSD check on 60 Gaussian points in R^5", ["kernel", "min_eig", "max_eig"], rows)


def _plot(Ds, errs, scores, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    a1.loglog(Ds, errs, "o-", label="SBAF random features")
    a1.loglog(Ds, errs[0] * np.sqrt(Ds[0] / np.asarray(Ds)), "k--", label=r"$\propto 1/\sqrt{D}$")
    a1.set_xlabel("n_components D")
    a1.set_ylabel("relative Frobenius error")
    a1.set_title("Random features vs exact Gram (breast cancer)")
    a1.legend()
    names = list(DATASETS)
    labels = sorted({lab for (_, lab) in scores}, key=lambda s: (not s.startswith("SBAF"), s))
    width = 0.8 / len(labels)
    for i, lab in enumerate(labels):
        a2.bar(np.arange(len(names)) + i * width, [scores[(n, lab)] for n in names], width,
               label=lab)
    a2.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names)
    a2.set_ylim(0.85, 1.0)
    a2.set_ylabel("nested-CV accuracy")
    a2.set_title("SVC accuracy")
    a2.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"\nwrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller grids, folds and sizes")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    bench_psd()
    bench_time(args.quick)
    Ds, errs = bench_random_features(args.quick)
    print("\nAccuracy (running) ...")
    scores = bench_accuracy(args.quick)
    os.makedirs(RESULTS, exist_ok=True)
    _plot(Ds, errs, scores, os.path.join(RESULTS, "bench_kernel.png"))
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
