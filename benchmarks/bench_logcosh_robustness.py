"""Is log-cosh robust to label noise?  Test MAE under growing gross outliers.

The claim (LipGene talk): "log-cosh is robust to label noise".  log cosh(r)
behaves like r^2/2 for |r| << 1 and like |r| - log 2 for |r| >> 1, so its
robustness depends on the scale of the residuals, i.e. on the units of y.
This benchmark measures it.

For each data set and seed: a 70/30 train/test split, X standardized on the
training part, and a fraction p (0, 5, 10, 20, 30%) of the *training*
targets corrupted with gross outliers: ``y_i + s_i * U(5, 15) * sd(y)``
(``--outliers one-sided``: s_i = +1, the default; ``symmetric``: s_i = +-1).
The test set stays clean.  Each model is a ``LipschitzRegressor`` with its
default settings (``--learning-rate`` to change), fitted on the corrupted
targets; reported is the test MAE in the units of y, averaged over seeds
(standard deviation over seeds in parentheses).

Models:

* ``squared``, ``absolute``, ``quantile(0.5)``: the losses on raw y;
* ``logcosh raw``: log-cosh on raw y;
* ``logcosh std``: log-cosh on y standardized by the training targets' mean
  and standard deviation, as ``StandardScaler`` would do (outliers included:
  they inflate the standard deviation);
* ``logcosh robust``: log-cosh on y centred by the median and scaled by the
  normalized MAD (1.4826 * MAD) of the training targets, a scale that the
  outliers barely move;
* ``logcosh resid``: log-cosh on y scaled by the normalized MAD of the
  *residuals* of a pilot absolute-error fit, so that the quadratic zone
  |r| < 1 covers the noise and the outliers fall in the linear zone (the
  role of the scale in Huber regression);
* ``logcosh auto``, ``logcosh auto std``: ``scale='auto'`` (the estimator
  does what ``logcosh resid`` does by hand: the scale is the normalized MAD
  of the residuals of its absolute-error fit) on raw y and on standardized y;
* ``huber``: ``loss='huber'`` with ``epsilon='auto'`` (1.35 times that scale).

After the MAE tables, the targets of ``scale='auto'``: its test MAE over the
absolute-error fit's (raw and standardized y, every outlier fraction), and
its test MSE over the squared-error fit's without outliers (the synthetic
noise is Gaussian: there the squared error is the efficient fit, and a good
scale must not turn log-cosh into the absolute error).

Data: diabetes (442 x 10, sd(y) = 77) and a synthetic linear problem
(n = 2000, d = 20, Gaussian noise of sd 0.5, sd(y) = 8.05).

Usage::

    python benchmarks/bench_logcosh_robustness.py [--seeds 10] [--outliers one-sided]
        [--learning-rate lipschitz] [--out benchmarks/results/logcosh_robustness.png]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressor

FRACTIONS = (0.0, 0.05, 0.10, 0.20, 0.30)
MODELS = (
    "squared", "absolute", "quantile(0.5)", "logcosh raw", "logcosh std", "logcosh robust",
    "logcosh resid", "logcosh auto", "logcosh auto std", "huber",
)
# model -> (loss, target scaling, extra parameters)
_LOSS = {
    "squared": ("squared_error", None, {}),
    "absolute": ("absolute_error", None, {}),
    "quantile(0.5)": ("quantile", None, {}),
    "logcosh raw": ("log_cosh", "raw", {}),
    "logcosh std": ("log_cosh", "std", {}),
    "logcosh robust": ("log_cosh", "robust", {}),
    "logcosh resid": ("log_cosh", "resid", {}),
    "logcosh auto": ("log_cosh", "raw", {"scale": "auto"}),
    "logcosh auto std": ("log_cosh", "std", {"scale": "auto"}),
    "huber": ("huber", "raw", {}),
}


def load_datasets():
    X, y = load_diabetes(return_X_y=True)
    out = {"diabetes": (X, y)}
    rng = np.random.default_rng(2024)
    n, d = 2000, 20
    Xs = rng.standard_normal((n, d)) * rng.uniform(0.5, 2.0, d)
    ys = Xs @ rng.standard_normal(d) + 1.0 + 0.5 * rng.standard_normal(n)
    out["synthetic"] = (Xs, ys)
    return out


def corrupt(y, fraction, rng, mode):
    """Add gross outliers to a random ``fraction`` of ``y`` (a copy)."""
    y = y.copy()
    k = int(round(fraction * len(y)))
    if k == 0:
        return y
    idx = rng.choice(len(y), size=k, replace=False)
    size = rng.uniform(5.0, 15.0, size=k) * y.std()
    sign = np.ones(k) if mode == "one-sided" else rng.choice([-1.0, 1.0], size=k)
    y[idx] += sign * size
    return y


def target_scaling(X, y, how, learning_rate):
    """(shift, scale) applied to the targets before fitting."""
    if how == "resid":
        # the scale of the residuals, from a pilot absolute-error fit
        pilot = LipschitzRegressor(loss="absolute_error", learning_rate=learning_rate,
                                   max_iter=2000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            r = y - pilot.fit(X, y).predict(X)
        return np.median(y), 1.4826 * np.median(np.abs(r - np.median(r)))
    if how == "std":
        return y.mean(), y.std()
    if how == "robust":
        med = np.median(y)
        return med, 1.4826 * np.median(np.abs(y - med))
    return 0.0, 1.0


def fit_predict(model, X_train, y_train, X_test, learning_rate, seed):
    loss, scaling, extra = _LOSS[model]
    shift, scale = target_scaling(X_train, y_train, scaling, learning_rate)
    reg = LipschitzRegressor(loss=loss, learning_rate=learning_rate, random_state=seed,
                             max_iter=2000, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X_train, (y_train - shift) / scale)
    return reg.predict(X_test) * scale + shift


def run(n_seeds, mode, learning_rate):
    data = load_datasets()
    # results[dataset][model] -> array (n_fractions, n_seeds) of test MAE; mse: of test MSE
    results = {name: {m: np.empty((len(FRACTIONS), n_seeds)) for m in MODELS} for name in data}
    mse = {name: {m: np.empty((len(FRACTIONS), n_seeds)) for m in MODELS} for name in data}
    for name, (X, y) in data.items():
        for seed in range(n_seeds):
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed)
            scaler = StandardScaler().fit(X_tr)
            X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
            rng = np.random.default_rng(1000 + seed)
            for i, frac in enumerate(FRACTIONS):
                y_bad = corrupt(y_tr, frac, rng, mode)
                for model in MODELS:
                    pred = fit_predict(model, X_tr, y_bad, X_te, learning_rate, seed)
                    results[name][model][i, seed] = np.mean(np.abs(pred - y_te))
                    mse[name][model][i, seed] = np.mean((pred - y_te) ** 2)
    return data, results, mse


def print_table(name, res, y):
    print(f"\n{name}: test MAE (sd over seeds), sd(y) = {y.std():.3g}")
    width = 18
    print("outliers".ljust(9) + "".join(m.rjust(width) for m in MODELS))
    for i, frac in enumerate(FRACTIONS):
        cells = []
        for model in MODELS:
            v = res[model][i]
            cells.append(f"{v.mean():.3f} ({v.std():.3f})".rjust(width))
        print(f"{frac:>7.0%}  " + "".join(cells))


def print_targets(results, mse):
    """scale='auto' against the absolute-error (MAE) and squared-error (MSE) fits."""
    print("\nlog-cosh scale='auto': test MAE / absolute-error MAE (target <= 1.10), "
          "and without outliers test MSE / squared-error MSE (target <= 1.05)")
    print("data".ljust(11) + "y".ljust(6) + "".join(f"{f:>8.0%}" for f in FRACTIONS)
          + "   MSE ratio at 0%")
    for name, res in results.items():
        for model, label in (("logcosh auto", "raw"), ("logcosh auto std", "std")):
            ratios = res[model].mean(axis=1) / res["absolute"].mean(axis=1)
            m = mse[name][model][0].mean() / mse[name]["squared"][0].mean()
            print(name.ljust(11) + label.ljust(6) + "".join(f"{r:8.3f}" for r in ratios)
                  + f"   {m:8.3f}")


def plot(results, path, mode):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 4.2))
    for ax, (name, res) in zip(np.atleast_1d(axes), results.items()):
        for model in MODELS:
            v = res[model]
            ax.errorbar(100 * np.array(FRACTIONS), v.mean(axis=1), yerr=v.std(axis=1),
                        marker="o", capsize=3, label=model)
        ax.set_title(f"{name}: {mode} outliers of 5-15 sd(y)")
        ax.set_xlabel("corrupted training targets (%)")
        ax.set_ylabel("test MAE (clean test set)")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--outliers", choices=["one-sided", "symmetric"], default="one-sided")
    parser.add_argument("--learning-rate", default="lipschitz",
                        help="'lipschitz' (default solver), 'local', 'paper' or a float")
    parser.add_argument("--out", default=os.path.join(here, "results", "logcosh_robustness.png"))
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    lr = args.learning_rate
    if lr not in ("lipschitz", "local", "paper"):
        try:
            lr = float(lr)
        except ValueError:
            parser.error(f"--learning-rate: not a rule or a number: {lr!r}")

    t0 = time.perf_counter()
    data, results, mse = run(args.seeds, args.outliers, lr)
    print(f"LipschitzRegressor(learning_rate={lr!r}), {args.outliers} outliers, "
          f"{args.seeds} seeds, {time.perf_counter() - t0:.1f} s")
    for name, res in results.items():
        print_table(name, res, data[name][1])
    print_targets(results, mse)
    plot(results, args.out, args.outliers)
    print(f"\nplot: {args.out}")


if __name__ == "__main__":
    main()
