"""SymNet stopping and weight averaging, measured on stored per-epoch scores.

Two measurements behind docs/symnet.md ("Weight averaging on small regression
problems" and the replayed stopping rules):

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_stopping.py --decays

fits the default SymNetRegressor on diabetes (3-fold, StandardScaler, y in its
units; layers (128,), (64, 64), (32, 32, 32); sbaf, arelu, relu) and prints
the test R^2 of the last weights and of the weight average at each decay
(``_symnet_base._AVERAGE_DECAY`` set for the fit; ``average_weights=True``).

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_stopping.py --replay [--compare]

runs the depth-3 classifier cells (digits and the synthetic 5-class problem
of bench_symnet_depth.py; with ``--compare`` the five classifier tasks of
``sklipschitz compare`` instead, 5-fold) to 200 epochs with every stopping
rule off, scores every epoch's weights on the test fold, and replays
candidate stopping rules on the stored training-loss curves: the score at
the epoch each rule stops / mean epochs.

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_stopping.py --diagnose

asks, for the cells of bench_symnet_depth.py where the default SymNet ran
more epochs than the tuned MLP, whether the epochs are set by slow learning
or by the stopping rule waiting: the same per-epoch test scores (3-fold,
200 epochs, stopping off), the epoch at which the default rule (replayed on
the loss curve) stops and its score, the first epoch at which the mean test
score is within 0.02 of the tuned MLP (its score and epochs from the table
in docs/symnet.md), the best epoch, the training loss's relative progress
over the 10 epochs before the threshold epoch, and the epochs at which the
guard undid an epoch and halved the rates (per fold).  Epochs here count
the accepted epochs; ``n_iter_`` (the depth table) also counts the undone
ones.

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_stopping.py --candidates current \
        no-release-first first-all first-reset

3-fold score / mean ``n_iter_`` of those cells under candidate changes
patched for the run (``bench_symnet_depth.py --candidate`` runs the whole
table under one): ``current`` is the package (the halvings of a first epoch
that blew up released once an epoch is accepted, with caps);
``no-release-first`` the guard before that; ``first-all`` every halving of
the first epoch released; ``first-reset`` the blow-ups' halvings released
without the caps; ``release`` every halving of the fit released (a patch of
the update, on the guard before the release); momentum variants.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.datasets import load_diabetes, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from sklipschitz import _symnet_base
from sklipschitz.neural_network import SymNetClassifier, SymNetRegressor


def decays(values=(0.8, 0.9, 0.95)):
    X, y = load_diabetes(return_X_y=True)
    print("| activation, layers | last weights | "
          + " | ".join(f"decay {d:g}" for d in values) + " |")
    print("| --- " * (2 + len(values)) + "|")
    default = _symnet_base._AVERAGE_DECAY
    for act in ("relu", "arelu", "sbaf"):
        for layers in ((128,), (64, 64), (32, 32, 32)):
            cells = []
            for decay in (None, *values):
                _symnet_base._AVERAGE_DECAY = default if decay is None else decay
                scores = []
                for tr, te in KFold(3, shuffle=True, random_state=0).split(X):
                    sc = StandardScaler().fit(X[tr])
                    reg = SymNetRegressor(hidden_layer_sizes=layers, activation=act,
                                          random_state=0, average_weights=decay is not None)
                    reg.fit(sc.transform(X[tr]), y[tr])
                    scores.append(reg.score(sc.transform(X[te]), y[te]))
                cells.append(f"{np.mean(scores):.4f}")
            _symnet_base._AVERAGE_DECAY = default
            print(f"| {act} {layers} | " + " | ".join(cells) + " |", flush=True)


# -- replayed stopping rules ----------------------------------------------------


def _stop_epoch(L, rule, n=10, tol=1e-4):
    """Epochs run under the MLP rule (tol absolute, n epochs) and ``rule``."""
    best, no_improvement = np.inf, 0
    for t in range(len(L)):
        no_improvement = 0 if L[t] < best - tol else no_improvement + 1
        best = min(best, L[t])
        if no_improvement >= n or rule(L, t, n):
            return t + 1
    return len(L)


def _plateau(p=0.01, window=1):
    def rule(L, t, n):
        k = window * n
        return t >= k and L[t - k] - L[t] < p * (L[0] - L[t])
    return rule


def _decelerating(p=0.01, ratio=0.5):
    def rule(L, t, n):
        if t < 2 * n:
            return False
        recent, before = L[t - n] - L[t], L[t - 2 * n] - L[t - n]
        return recent < p * (L[0] - L[t]) and recent <= ratio * before
    return rule


RULES = {
    "current rule": _plateau(),
    "none": lambda L, t, n: False,
    "window 2n": _plateau(window=2),
    "window 3n": _plateau(window=3),
    "progress_tol=0.003": _plateau(0.003),
    "decelerating": _decelerating(),
}


def _curves(est_factory, X, y, folds, metric):
    """Per fold: the training-loss curve and the test score of every epoch's weights."""
    snapshots = []
    original = _symnet_base._PlateauStopping.update

    def update(self, state, improved):
        snapshots.append(([c.copy() for c in state.coefs],
                          [b.copy() for b in state.intercepts]))
        return original(self, state, improved)

    out = []
    _symnet_base._PlateauStopping.update = update
    try:
        for tr, te in StratifiedKFold(folds, shuffle=True, random_state=0).split(X, y):
            sc = StandardScaler().fit(X[tr])
            Xtr, Xte = sc.transform(X[tr]), sc.transform(X[te])
            snapshots.clear()
            est = est_factory().fit(Xtr, y[tr])
            scores = []
            for coefs, intercepts in snapshots:
                est.coefs_, est.intercepts_ = coefs, intercepts
                scores.append(roc_auc_score(y[te], est.predict_proba(Xte)[:, 1])
                              if metric == "roc_auc" else est.score(Xte, y[te]))
            out.append((list(est.loss_curve_), scores))
    finally:
        _symnet_base._PlateauStopping.update = original
    return out


def replay(compare):
    if compare:
        from sklipschitz.cli.compare._tasks import DATASETS

        cells = [(f"compare {name}", DATASETS[name].load(False, 0), (100,), "sbaf", 5, metric)
                 for name, metric in [("breast-cancer", "accuracy"), ("iris", "accuracy"),
                                      ("wine", "accuracy"), ("digits", "accuracy"),
                                      ("imbalanced", "roc_auc")]]
    else:
        synthetic = make_classification(n_samples=3000, n_features=20, n_informative=10,
                                        n_classes=5, n_clusters_per_class=2, random_state=0)
        cells = [(f"{name} (32, 32, 32) {act}", data, (32, 32, 32), act, 3, "accuracy")
                 for name, data in [("digits", load_digits(return_X_y=True)),
                                    ("synthetic 5-class", synthetic)]
                 for act in ("sbaf", "arelu", "relu")]
    print("| cell | " + " | ".join(RULES) + " |")
    print("| --- " * (1 + len(RULES)) + "|")
    for label, (X, y), layers, act, folds, metric in cells:
        curves = _curves(
            lambda: SymNetClassifier(hidden_layer_sizes=layers, activation=act, random_state=0,
                                     max_iter=200, tol=0.0, n_iter_no_change=200,
                                     progress_tol=0.0),
            X, y, folds, metric,
        )
        cells_out = []
        for rule in RULES.values():
            epochs = [_stop_epoch(L, rule) for L, _ in curves]
            score = np.mean([s[e - 1] for (_, s), e in zip(curves, epochs)])
            cells_out.append(f"{score:.4f} / {np.mean(epochs):.0f}")
        print(f"| {label} | " + " | ".join(cells_out) + " |", flush=True)


# the cells of the depth table where SymNet ran more epochs than the tuned MLP
# (and breast cancer relu, the thinnest margin): layers, the MLP's score and epochs
DIAGNOSED = [("digits", "sbaf", (32, 32, 32), 0.9633, 32),
             ("digits", "arelu", (32, 32, 32), 0.9633, 32),
             ("synthetic 5-class", "sbaf", (32, 32, 32), 0.7380, 77),
             ("synthetic 5-class", "arelu", (32, 32, 32), 0.7380, 77),
             ("synthetic 5-class", "relu", (32, 32, 32), 0.7380, 77),
             ("synthetic 5-class", "arelu", (64, 64), 0.7673, 72),
             ("breast cancer", "arelu", (32, 32, 32), 0.9701, 41),
             ("breast cancer", "relu", (32, 32, 32), 0.9701, 41)]


def diagnose(epochs=200, cells=None):
    from sklearn.datasets import load_breast_cancer

    from sklipschitz._engine import loop

    data = {"digits": load_digits(return_X_y=True),
            "synthetic 5-class": make_classification(
                n_samples=3000, n_features=20, n_informative=10, n_classes=5,
                n_clusters_per_class=2, random_state=0),
            "breast cancer": load_breast_cancer(return_X_y=True)}
    halvings = []
    original = loop._Fit.diverged

    def diverged(self, guard, epoch_loss, start):
        verdict = original(self, guard, epoch_loss, start)
        if verdict != "ok":
            halvings[-1].append(self.state.n_iter)
        return verdict

    print("| cell | MLP score / epochs | rule: score / epochs | first epoch "
          "within 0.02 of the MLP | best: score / epoch | loss progress over the 10 epochs "
          "before that epoch (per fold) | halvings at epochs (per fold) |")
    print("| --- " * 7 + "|")
    loop._Fit.diverged = diverged
    try:
        for name, act, layers, mlp_score, mlp_epochs in cells or DIAGNOSED:
            X, y = data[name]

            def factory():
                halvings.append([])
                return SymNetClassifier(hidden_layer_sizes=layers, activation=act,
                                        random_state=0, max_iter=epochs, tol=0.0,
                                        n_iter_no_change=epochs, progress_tol=0.0)

            halvings.clear()
            curves = _curves(factory, X, y, 3, "accuracy")
            stops = [_stop_epoch(L, RULES["current rule"]) for L, _ in curves]
            score = np.mean([s[e - 1] for (_, s), e in zip(curves, stops)])
            T = min(len(s) for _, s in curves)
            mean = np.mean([s[:T] for _, s in curves], axis=0)
            reach = next((t + 1 for t in range(T) if mean[t] >= mlp_score - 0.02), None)
            if reach is not None and reach > 10:
                progress = " / ".join(
                    f"{(L[reach - 11] - L[reach - 1]) / (L[0] - L[reach - 1]):.3f}"
                    for L, _ in curves)
            else:
                progress = "-"
            print(f"| {name} {layers} {act} | {mlp_score:.4f} / {mlp_epochs} | {score:.4f} / "
                  f"{np.mean(stops):.0f} | {reach if reach is not None else 'never'} | "
                  f"{mean.max():.4f} / {mean.argmax() + 1} | {progress} | "
                  + "; ".join(",".join(map(str, h)) or "-" for h in halvings) + " |",
                  flush=True)
    finally:
        loop._Fit.diverged = original


# -- candidate changes, applied as patches for one run -------------------------


class _HeavyBall:
    """``v <- beta v - lr g``; ``w <- w + v`` (Polyak), or ``w <- w + beta v - lr g``
    (Nesterov in Sutskever's form, ``nesterov=True``)."""

    def __init__(self, beta, nesterov):
        self.beta, self.nesterov = beta, nesterov

    def init(self, params):
        return {"v": [np.zeros_like(p) for p in params]}

    def update(self, params, grads, lr, state):
        rates = lr if isinstance(lr, list) else [lr] * len(params)
        for p, g, v, r in zip(params, grads, state["v"], rates):
            step = p.dtype.type(r) * g
            v *= self.beta
            v -= step
            if self.nesterov:
                p += self.beta * v
                p -= step
            else:
                p += v
        return state


class _Release:
    """The guard's halvings released where the computed rate has fallen below the
    rate that failed: each parameter's rate ``min(r, max(cap, s r))``, ``r`` the
    computed rate, ``s`` the loop's halving factor, ``cap`` half the smallest rate
    of that parameter in an epoch the guard undid."""

    def __init__(self):
        from sklipschitz._engine import loop
        from sklipschitz._engine import network_lipschitz as nl

        self.patched = [(loop._Fit, "epoch"), (loop._Fit, "diverged"),
                        (nl.CentredUpdate, "update")]
        self.saved = [getattr(owner, name) for owner, name in self.patched]
        release = self
        epoch, diverged, update = self.saved

        def patched_epoch(fit, *args, **kwargs):
            if fit.state is not release.state:  # a new fit
                release.state, release.cap, release.last = fit.state, None, None
            return epoch(fit, *args, **kwargs)

        def patched_diverged(fit, *args, **kwargs):
            verdict = diverged(fit, *args, **kwargs)
            if verdict != "ok" and release.last is not None:
                half = [0.5 * r for r in release.last]
                release.cap = half if release.cap is None else [
                    min(c, h) for c, h in zip(release.cap, half)]
            return verdict

        def patched_update(centred, params, grads, lr, state):
            s = release.state.rate_scale if release.state is not None else 1.0
            if isinstance(lr, list) and release.cap is not None and s < 1.0:
                lr = [min(x / s, max(c, x)) for x, c in zip(lr, release.cap)]
            if isinstance(lr, list):
                release.last = list(lr)
            return update(centred, params, grads, lr, state)

        self.state = None
        for (owner, name), fn in zip(self.patched,
                                     (patched_epoch, patched_diverged, patched_update)):
            setattr(owner, name, fn)

    def undo(self):
        for (owner, name), fn in zip(self.patched, self.saved):
            setattr(owner, name, fn)


def _apply(variant):
    """Patch the default SymNet for ``variant``; returns the function that undoes it."""
    from sklipschitz._engine.updates import Momentum

    from sklipschitz._engine import loop

    updates = _symnet_base.UPDATES
    default = updates["sgd"]
    release = _Release() if variant.startswith("release") else None
    guard = _symnet_base._EndLossGuard
    saved_guard, saved_released, saved_blew_up = guard.release_first, loop._released, guard.blew_up
    if variant == "no-release-first" or variant.startswith("release"):
        # the guard before the first epoch's halvings were released (the
        # "release" patch applies to every halving, on that guard)
        guard.release_first = False
    elif variant == "first-all":
        # every halving of the first epoch released, mild rises too
        guard.blew_up = lambda self: True
    elif variant == "first-reset":
        # the first epoch's blow-ups released without the caps
        loop._released = lambda lr, factor, caps: lr
    if variant.endswith("heavy-ball"):
        updates["sgd"] = lambda: _HeavyBall(0.5, False)
    elif variant == "nesterov":
        updates["sgd"] = lambda: _HeavyBall(0.5, True)
    elif variant == "adamo":
        updates["sgd"] = Momentum

    def undo():
        updates["sgd"] = default
        guard.release_first, guard.blew_up = saved_guard, saved_blew_up
        loop._released = saved_released
        if release is not None:
            release.undo()
    return undo


CANDIDATES = ("current", "no-release-first", "first-all", "first-reset", "heavy-ball",
              "nesterov", "adamo", "release", "release+heavy-ball")


def candidates(variants):
    """3-fold score / mean n_iter_ of the DIAGNOSED cells under each candidate."""
    from sklearn.datasets import load_breast_cancer

    data = {"digits": load_digits(return_X_y=True),
            "synthetic 5-class": make_classification(
                n_samples=3000, n_features=20, n_informative=10, n_classes=5,
                n_clusters_per_class=2, random_state=0),
            "breast cancer": load_breast_cancer(return_X_y=True)}
    print("| cell | " + " | ".join(variants) + " |")
    print("| --- " * (1 + len(variants)) + "|")
    for name, act, layers, mlp_score, _ in DIAGNOSED:
        X, y = data[name]
        cells = []
        for variant in variants:
            undo = _apply(variant)
            try:
                scores, epochs = [], []
                for tr, te in StratifiedKFold(3, shuffle=True, random_state=0).split(X, y):
                    sc = StandardScaler().fit(X[tr])
                    est = SymNetClassifier(hidden_layer_sizes=layers, activation=act,
                                           random_state=0).fit(sc.transform(X[tr]), y[tr])
                    scores.append(est.score(sc.transform(X[te]), y[te]))
                    epochs.append(est.n_iter_)
            finally:
                undo()
            flag = " (!)" if np.mean(scores) < mlp_score - 0.02 else ""
            cells.append(f"{np.mean(scores):.4f}{flag} / {np.mean(epochs):.0f}")
        print(f"| {name} {layers} {act} | " + " | ".join(cells) + " |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--decays", action="store_true")
    group.add_argument("--replay", action="store_true")
    group.add_argument("--diagnose", action="store_true")
    group.add_argument("--candidates", nargs="+", choices=CANDIDATES, metavar="VARIANT",
                       help=f"score / epochs of the diagnosed cells under {CANDIDATES}")
    parser.add_argument("--compare", action="store_true",
                        help="--replay: the compare classifier tasks instead of the depth-3 cells")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.decays:
        decays()
    elif args.diagnose:
        diagnose()
    elif args.candidates:
        candidates(args.candidates)
    else:
        replay(args.compare)


if __name__ == "__main__":
    main()
