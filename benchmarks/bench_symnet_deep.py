"""SymNet at depth 4-6: no NaN, no silent constant predictor, scores against a tuned MLP.

For 4, 5 and 6 hidden layers of 16, 32 or 128 units, the activations sbaf,
arelu, relu and tanh, and the data sets breast cancer, digits, diabetes
(X standardized, y in its units) and a synthetic 4-class problem
(make_classification, 2000 x 20), the default SymNet (no learning rate) is
fitted on a 70 % split (seeds 0-2: the network's ``random_state``) and scored
on the other 30 %.  The baseline is scikit-learn's MLPClassifier /
MLPRegressor (relu, Adam, the same layers, ``random_state=0``) at its best
``learning_rate_init`` in {1e-4, 1e-3, 1e-2, 1e-1}, chosen on the same test
split (an optimistic baseline).

Every SymNet fit gets a verdict: ``nan`` (a non-finite prediction),
``silent`` (a constant predictor -- training R^2 <= 0, training accuracy at
the majority class's rate -- without a ConvergenceWarning), ``warned`` (a
ConvergenceWarning) or ok.

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_deep.py
        [--data diabetes ...] [--depths 4 5 6] [--widths 16 32 128]
        [--activations sbaf arelu relu tanh] [--seeds 0 1 2] [--n-jobs 1]

Prints one markdown row per (data, layers): the tuned MLP's test score and
rate, then per activation the mean test score over the seeds, its minimum,
and the counts of warned / silent / nan fits; ``(!)`` marks a mean more than
0.02 below the tuned MLP.  A last line sums the verdicts.

    OMP_NUM_THREADS=1 python benchmarks/bench_symnet_deep.py --diagnose [--trace]
        [--data ...] [--depths ...] [--widths ...] [--activations ...] [--seeds ...]

prints instead, per fit, what the deep cells were diagnosed with: each hidden
layer's pre-activation variance on the training rows (mean over units) at the
start and at the end, the weight norms at the end, the per-layer constants
``L_k`` of the first and the last epoch (as the per-layer L2 rule receives
them), the epochs run and the scores.  With ``--trace`` it also prints, per
epoch (the first ten, then every tenth, and every epoch the guard undid):
the guard's halvings so far, each layer's constant ``L_k`` (after the
per-layer L2 rule), the Jacobian estimate of the hidden layers and the
bound it replaces, each hidden layer's pre-activation variance and largest
activation, and the objective at the end of an undone epoch (an overshoot
shows as a loss far above the start).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from sklipschitz.neural_network import SymNetClassifier, SymNetRegressor

ACTIVATIONS = ("sbaf", "arelu", "relu", "tanh")
MLP_RATES = (1e-4, 1e-3, 1e-2, 1e-1)


def _synthetic():
    return make_classification(
        n_samples=2000, n_features=20, n_informative=10, n_classes=4, n_clusters_per_class=2,
        random_state=0,
    )


DATA = {
    "breast cancer": (lambda: load_breast_cancer(return_X_y=True), True),
    "digits": (lambda: load_digits(return_X_y=True), True),
    "diabetes": (lambda: load_diabetes(return_X_y=True), False),
    "synthetic 4-class": (_synthetic, True),
}


def _split(name):
    load, classifier = DATA[name]
    X, y = load()
    Xtr, Xte, ytr, yte = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y if classifier else None
    )
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte, classifier


def _mlp(name, layers, lr):
    Xtr, Xte, ytr, yte, classifier = _split(name)
    cls = MLPClassifier if classifier else MLPRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = cls(hidden_layer_sizes=layers, learning_rate_init=lr, random_state=0)
        model.fit(Xtr, ytr)
    return model.score(Xte, yte)


def _symnet(name, layers, activation, seed):
    """(test score, verdict) of one default SymNet fit."""
    Xtr, Xte, ytr, yte, classifier = _split(name)
    cls = SymNetClassifier if classifier else SymNetRegressor
    model = cls(hidden_layer_sizes=layers, activation=activation, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(Xtr, ytr)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    if classifier:
        out = model.predict_proba(Xte)
        finite = np.isfinite(out).all() and np.isfinite(model.predict_log_proba(Xte)).all()
        majority = max(np.mean(ytr == c) for c in np.unique(ytr))
        constant = model.score(Xtr, ytr) <= majority + 1e-9
    else:
        out = model.predict(Xte)
        finite = np.isfinite(out).all()
        constant = model.score(Xtr, ytr) <= 0.0
    score = model.score(Xte, yte) if finite else np.nan
    verdict = "nan" if not finite else "silent" if constant and not warned else (
        "warned" if warned else "ok")
    return score, verdict


def _layer_variances(model, X, coefs, intercepts):
    _, pre, _ = model._network.forward(X, coefs, intercepts)
    return [float(np.mean(np.var(z, axis=0))) for z in pre]


def diagnose(name, layers, activation, seed, trace=False):
    """One fit's per-layer story (see the module docstring); returns the lines."""
    import sklipschitz._engine.network_lipschitz as nl
    import sklipschitz._symnet_base as base

    Xtr, Xte, ytr, yte, classifier = _split(name)
    cls = SymNetClassifier if classifier else SymNetRegressor
    start, constants, epochs, seen = {}, [], [], {}

    class Probe(cls):
        def _init_params(self, network, *args, **kwargs):
            coefs, intercepts = super()._init_params(network, *args, **kwargs)
            start["params"] = ([W.copy() for W in coefs], [b.copy() for b in intercepts])
            start["network"] = network
            return coefs, intercepts

        def _train(self, problem, state, rule, update, lipschitz_fn, guard, *args):
            if not trace:
                return super()._train(problem, state, rule, update, lipschitz_fn, guard, *args)

            def traced(c, i):
                out = lipschitz_fn(c, i)
                _, pre, acts = start["network"].forward(Xtr, c, i)
                epochs.append(dict(
                    epoch=state.n_iter, halvings=state.halvings, L=out[:len(c)],
                    J=seen.get("J"), bound=seen.get("bound"),
                    var=[float(np.mean(np.var(z, axis=0))) for z in pre],
                    top=[float(np.max(a)) for a in acts[1:]],
                    undone=seen.pop("undone", None)))
                return out

            is_bad = guard.is_bad

            def judged(epoch_loss, st):
                bad = is_bad(epoch_loss, st)
                if bad:
                    seen["undone"] = guard.end_loss_fn(st.coefs, st.intercepts)
                return bad

            guard.is_bad = judged
            return super()._train(problem, state, rule, update, traced, guard, *args)

    layer_l2 = base._penalties.layer_l2
    patched = {
        (base._penalties, "layer_l2"): layer_l2,
        (nl.JacobianCurvature, "constants"): nl.JacobianCurvature.constants,
        (nl, "layer_constants"): nl.layer_constants,
        (nl.PassStatistics, "constants"): nl.PassStatistics.constants,
    }

    def record(consts, alpha, *args, **kwargs):
        constants.append(list(consts))
        return layer_l2(consts, alpha, *args, **kwargs)

    def keep(key, fn):
        def wrapped(*args, **kwargs):
            out = fn(*args, **kwargs)
            seen[key] = list(out)
            return out
        return wrapped

    model = Probe(hidden_layer_sizes=layers, activation=activation, random_state=seed)
    base._penalties.layer_l2 = record
    nl.JacobianCurvature.constants = keep("J", nl.JacobianCurvature.constants)
    nl.layer_constants = keep("bound", nl.layer_constants)
    nl.PassStatistics.constants = keep("bound", nl.PassStatistics.constants)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(Xtr, ytr)
    finally:
        for (owner, attr), value in patched.items():
            setattr(owner, attr, value)

    def fmt(values):
        return " ".join(f"{v:.2g}" for v in values) if values is not None else "-"

    warned = sorted({str(w.message).split(":")[0][:48] for w in caught
                     if issubclass(w.category, ConvergenceWarning)})
    lines = [
        f"{name} {layers} {activation} seed {seed}: train {model.score(Xtr, ytr):.3f} "
        f"test {model.score(Xte, yte):.3f}, {model.n_iter_} epochs, warned: {warned or 'no'}",
        "  variance at the start: " + fmt(_layer_variances(model, Xtr, *start["params"])),
        "  variance at the end:   " + fmt(_layer_variances(model, Xtr, model.coefs_,
                                                           model.intercepts_)),
        "  weight norms at the end: " + fmt(np.linalg.norm(W) for W in model.coefs_),
    ]
    if constants:
        lines.append("  L_k first epoch: " + fmt(constants[0]))
        lines.append("  L_k last epoch:  " + fmt(constants[-1]))
    for j, e in enumerate(epochs):
        if j < 10 or j % 10 == 0 or j == len(epochs) - 1 or e["undone"] is not None or (
                j + 1 < len(epochs) and epochs[j + 1]["undone"] is not None):
            undone = "" if e["undone"] is None else f" (previous epoch undone, end loss {e['undone']:.3g})"
            lines.append(
                f"  epoch {e['epoch']:3d} halvings {e['halvings']}{undone}: L_k {fmt(e['L'])} | "
                f"Jacobian {fmt(e['J'])} | bound {fmt(e['bound'])} | variance {fmt(e['var'])} | "
                f"largest activation {fmt(e['top'])}")
    return lines


def run(datasets, depths, widths, activations, seeds, n_jobs=1):
    print("| data | layers | MLP relu (tuned lr): test score / lr | "
          + " | ".join(f"SymNet {a}: mean / min / warned-silent-nan" for a in activations)
          + " |")
    print("| --- " * (3 + len(activations)) + "|", flush=True)
    totals = {"ok": 0, "warned": 0, "silent": 0, "nan": 0}
    misses = cells_run = 0
    par = Parallel(n_jobs=n_jobs)
    for d in datasets:  # one data set at a time: its rows print as it ends
        configs = [tuple([w] * k) for k in depths for w in widths]
        mlp_jobs = [(d, layers, lr) for layers in configs for lr in MLP_RATES]
        sym_jobs = [(d, layers, a, s) for layers in configs for a in activations for s in seeds]
        results = par(delayed(_mlp)(*job) for job in mlp_jobs) + par(
            delayed(_symnet)(*job) for job in sym_jobs)
        mlp = dict(zip(mlp_jobs, results[:len(mlp_jobs)]))
        sym = dict(zip(sym_jobs, results[len(mlp_jobs):]))
        for layers in configs:
            best_lr = max(MLP_RATES, key=lambda lr: mlp[(d, layers, lr)])
            best = mlp[(d, layers, best_lr)]
            cells = [f"{best:.4f} / {best_lr:g}"]
            for a in activations:
                res = [sym[(d, layers, a, s)] for s in seeds]
                scores = np.array([r[0] for r in res], dtype=float)
                verdicts = [r[1] for r in res]
                for v in verdicts:
                    totals[v] += 1
                mean = float(np.mean(scores))
                flag = "" if mean >= best - 0.02 else " (!)"
                misses += bool(flag)
                cells_run += 1
                counts = "-".join(str(verdicts.count(v)) for v in ("warned", "silent", "nan"))
                cells.append(f"{mean:.4f}{flag} / {np.min(scores):.4f} / {counts}")
            label = f"({layers[0]},)x{len(layers)}"
            print(f"| {d} | {label} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nfits: {sum(totals.values())}; " + ", ".join(f"{k} {v}" for k, v in totals.items())
          + f"; cells more than 0.02 below the tuned MLP: {misses} of {cells_run}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", choices=list(DATA), default=list(DATA))
    parser.add_argument("--depths", nargs="+", type=int, default=[4, 5, 6])
    parser.add_argument("--widths", nargs="+", type=int, default=[16, 32, 128])
    parser.add_argument("--activations", nargs="+", default=list(ACTIVATIONS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--diagnose", action="store_true")
    parser.add_argument("--trace", action="store_true",
                        help="with --diagnose: the per-epoch trace (see the module docstring)")
    args = parser.parse_args(argv)
    if args.diagnose:
        for d in args.data:
            for k in args.depths:
                for w in args.widths:
                    for a in args.activations:
                        for seed in args.seeds:
                            print("\n".join(diagnose(d, (w,) * k, a, seed, args.trace)), flush=True)
        return
    run(args.data, args.depths, args.widths, args.activations, args.seeds, args.n_jobs)


if __name__ == "__main__":
    main()
