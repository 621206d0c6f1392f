"""SymNet benchmarks: learning rate computed from the data vs a tuned grid.

Tables printed (and a PNG saved under benchmarks/results/):

1. Classification, stratified 5-fold CV on standardized iris / wine / breast
   cancer / digits: SymNetClassifier defaults (SBAF, no learning rate) and
   its activations vs MLPClassifier (default Adam): accuracy and epochs.
2. Epochs and time to reach a training-loss threshold, and final test
   accuracy, for SymNet default vs MLPClassifier with SGD and Adam at
   learning rates {1e-4, 1e-3, 1e-2, 1e-1, 1} (one hidden layer of 100).
3. LipschitzLR Table 1 rows: linear model (hidden_layer_sizes=()), full
   batch, epochs to reach the published thresholds (breast cancer 0.69,
   iris 0.2, digits 0.2) at lr = 0.1 vs the published 1/L ('paper') and the
   default valid rate ('lipschitz').
4. Regression: multi-target linnerud and a synthetic D-GEX-shaped problem
   (9000 samples, 90 inputs, 900 targets; the real one is 943 -> 9520):
   SymNetRegressor vs MLPRegressor, test MAE and time.

Usage: python benchmarks/bench_symnet.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_linnerud,
    load_wine,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklipschitz.neural_network import SymNetClassifier, SymNetRegressor

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
DATA = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer,
        "digits": load_digits}


def cv_classifier(make, X, y, reps=1):
    accs, epochs, secs = [], [], []
    for r in range(reps):
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=r).split(X, y):
            t = time.perf_counter()
            model = make_pipeline(StandardScaler(), make(r)).fit(X[tr], y[tr])
            secs.append(time.perf_counter() - t)
            accs.append(model.score(X[te], y[te]))
            epochs.append(model[-1].n_iter_)
    return np.mean(accs), np.std(accs), np.mean(epochs), np.sum(secs)


def table_accuracy(reps):
    print("\n== 1. Stratified 5-fold CV (x%d), standardized ==" % reps)
    print(f"{'data':<14}{'model':<22}{'accuracy':>16}{'epochs':>9}{'time s':>9}")
    rows = []
    for name, loader in DATA.items():
        X, y = loader(return_X_y=True)
        models = {"MLP adam (default)": lambda r: MLPClassifier(random_state=r)}
        for act in ["sbaf", "relu", "tanh", "arelu"]:
            label = f"SymNet {act}" + (" (default)" if act == "sbaf" else "")
            models[label] = lambda r, a=act: SymNetClassifier(activation=a, random_state=r)
        for label, make in models.items():
            acc, sd, ep, sec = cv_classifier(make, X, y, reps)
            rows.append((name, label, acc, ep, sec))
            print(f"{name:<14}{label:<22}{acc:>10.4f}±{sd:.3f}{ep:>9.1f}{sec:>9.2f}")
    return rows


def _epochs_to(curve, threshold):
    for i, v in enumerate(curve):
        if v < threshold:
            return i + 1
    return None


def table_grid(threshold=0.1):
    print(f"\n== 2. Epochs / time to training loss < {threshold}; digits, 70/30 split ==")
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, train_size=0.7, random_state=0, stratify=y)
    sc = StandardScaler().fit(Xtr)
    Xtr, Xte = sc.transform(Xtr), sc.transform(Xte)
    print(f"{'model':<28}{'epochs to thr':>14}{'time to thr s':>15}{'final acc':>11}"
          f"{'epochs':>8}")
    rows = []
    configs = [("SymNet default (no lr)", lambda: SymNetClassifier(random_state=0))]
    for solver in ["sgd", "adam"]:
        for lr in [1e-4, 1e-3, 1e-2, 1e-1, 1.0]:
            configs.append((f"MLP {solver} lr={lr:g}", lambda s=solver, l=lr: MLPClassifier(
                solver=s, learning_rate_init=l, random_state=0)))
    for label, make in configs:
        model = make()
        t = time.perf_counter()
        model.fit(Xtr, ytr)
        sec = time.perf_counter() - t
        curve = model.loss_curve_
        ep = _epochs_to(curve, threshold)
        t_thr = sec * ep / len(curve) if ep else None
        acc = model.score(Xte, yte)
        rows.append((label, ep, t_thr, acc, curve))
        print(f"{label:<28}{str(ep) if ep else 'never':>14}"
              f"{(f'{t_thr:.2f}' if t_thr else '-'):>15}{acc:>11.4f}{len(curve):>8}")
    return rows


def table_paper():
    print("\n== 3. LipschitzLR Table 1 rows: linear model, full batch ==")
    print(f"{'data':<14}{'T_L':>6}{'1/L paper':>11}{'E_0.1':>8}{'E_1/L paper':>12}"
          f"{'1/L valid':>11}{'E_1/L valid':>12}   (published: E_0.1 / E_1/L)")
    published = {"breast_cancer": (37008, 2), "iris": (413, 49), "digits": (337, 2)}
    for name, thr in [("breast_cancer", 0.69), ("iris", 0.2), ("digits", 0.2)]:
        X, y = DATA[name](return_X_y=True)
        if name == "breast_cancer":
            X = np.hstack([np.ones((len(X), 1)), X])
            X = X / X.sum(axis=0)
        else:
            X, _, y, _ = train_test_split(X, y, train_size=0.7, random_state=0, stratify=y)
        out = []
        for lr in [0.1, "paper", "lipschitz"]:
            clf = SymNetClassifier(hidden_layer_sizes=(), learning_rate=lr, batch_size=len(X),
                                   alpha=0.0, max_iter=2000, tol=0.0, n_iter_no_change=2000)
            clf.fit(X, y)
            out.append((1 / clf.lipschitz_constant_, _epochs_to(clf.loss_curve_, thr)))
        fmt = lambda e: str(e) if e else ">2000"  # noqa: E731
        print(f"{name:<14}{thr:>6}{out[1][0]:>11.4f}{fmt(out[0][1]):>8}{fmt(out[1][1]):>12}"
              f"{out[2][0]:>11.4f}{fmt(out[2][1]):>12}   {published[name]}")


def table_regression(quick, data=None, models_like=None):
    print("\n== 4. Regression: test MAE and fit time ==")
    print(f"{'data':<24}{'model':<30}{'MAE':>8}{'time s':>9}{'epochs':>8}")
    X, Y = load_linnerud(return_X_y=True)
    rng = np.random.default_rng(0)
    n, d, t = (3000, 90, 300) if quick else (9000, 90, 900)
    Xs = rng.standard_normal((n, d))
    # D-GEX shape: targets driven nonlinearly by a few latent factors of the inputs
    Z = np.tanh(Xs @ rng.standard_normal((d, 20)) / np.sqrt(d) * 2)
    Ys = Z @ rng.standard_normal((20, t)) + 0.3 * Xs[:, :10] @ rng.standard_normal((10, t))
    Ys += 0.3 * rng.standard_normal((n, t))
    for name, (Xd, Yd) in {"linnerud (20x3, LOO)": (X, Y),
                           f"synthetic {n}x{d}->{t}": (Xs, Ys)}.items():
        models = {
            "MLPRegressor adam": lambda: MLPRegressor(random_state=0, max_iter=200),
            "SymNet sbaf squared_error": lambda: SymNetRegressor(random_state=0),
            "SymNet sbaf absolute_error": lambda: SymNetRegressor(loss="absolute_error",
                                                                  random_state=0),
            "SymNet sbaf log_cosh": lambda: SymNetRegressor(loss="log_cosh", random_state=0),
            "SymNet tanh log_cosh": lambda: SymNetRegressor(loss="log_cosh", activation="tanh",
                                                            random_state=0),
        }
        if data is not None and not name.startswith(data):
            continue
        if models_like is not None:
            models = {k: v for k, v in models.items() if models_like in k}
        splits = (KFold(len(Xd)).split(Xd) if len(Xd) < 100
                  else [train_test_split(np.arange(len(Xd)), test_size=0.2, random_state=0)])
        splits = list(splits)
        for label, make in models.items():
            maes, secs, eps = [], [], []
            for tr, te in splits:
                sx = StandardScaler().fit(Xd[tr])
                sy = StandardScaler().fit(Yd[tr])
                model = make()
                t0 = time.perf_counter()
                model.fit(sx.transform(Xd[tr]), sy.transform(Yd[tr]))
                secs.append(time.perf_counter() - t0)
                raw = model.predict(sx.transform(Xd[te])).reshape(len(te), -1)
                pred = sy.inverse_transform(raw)
                # MAE on standardized targets (as D-GEX reports)
                maes.append(np.mean(np.abs((pred - Yd[te]) / sy.scale_)))
                eps.append(model.n_iter_)
            print(f"{name:<24}{label:<30}{np.mean(maes):>8.4f}{np.sum(secs):>9.2f}"
                  f"{np.mean(eps):>8.1f}")


def plot(grid_rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(RESULTS, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, _, _, _, curve in grid_rows:
        style = dict(lw=2.5, color="k") if label.startswith("SymNet") else dict(lw=1)
        ax.semilogy(np.arange(1, len(curve) + 1), curve, label=label, **style)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title("digits: SymNet default vs MLPClassifier learning-rate grid")
    ax.legend(fontsize=6, ncol=2)
    path = os.path.join(RESULTS, "symnet_lr_grid.png")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"\nsaved {path}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1 CV repetition, smaller synthetic")
    parser.add_argument("--tables", nargs="+", type=int, choices=[1, 2, 3, 4],
                        default=[1, 2, 3, 4], help="tables to print (default: all)")
    parser.add_argument("--regression-data", choices=["linnerud", "synthetic"],
                        help="table 4: only this data set")
    parser.add_argument("--models", help="table 4: only the models whose label contains this")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    if 1 in args.tables:
        table_accuracy(1 if args.quick else 3)
    if 2 in args.tables:
        rows = table_grid()
    if 3 in args.tables:
        table_paper()
    if 4 in args.tables:
        table_regression(args.quick, args.regression_data, args.models)
    if 2 in args.tables:
        plot(rows)


if __name__ == "__main__":
    main()
