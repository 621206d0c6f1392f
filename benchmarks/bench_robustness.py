"""A sweep for silent failures: every estimator on data it was not tuned on.

Each line: the case, the estimator, the outcome, its score next to the score
of an sklearn reference fitted on the same data, and whether a warning was
raised.  Scores: R² on the training rows for regressors (the quantile losses
are scored by the fraction of the reference's pinball loss they reach,
``1 - (pinball - ref) / pinball(constant)``), accuracy (AUC for the
imbalanced cases) for classifiers.  Outcomes:

- ``ok``      the score is within ``0.05 + 5 %`` of the reference's;
- ``warned``  below that, with a warning (shown);
- ``SILENT``  below that, or a constant predictor (whatever the reference
  does), without a warning: a silent failure;
- ``NAN``     non-finite predictions;
- ``raised``  an exception: expected (``ok-raise``) for NaN / inf input when it is a
  ValueError naming the problem, ``ERROR`` otherwise.

    OMP_NUM_THREADS=1 python benchmarks/bench_robustness.py [--only SUBSTRING] [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import (
    HuberRegressor,
    Lasso,
    LinearRegression,
    LogisticRegression,
    QuantileRegressor,
    Ridge,
)
from sklearn.metrics import mean_pinball_loss, r2_score, roc_auc_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.svm import SVC

from sklipschitz import (
    LipschitzQuantileClassifier,
    LipschitzRegressor,
    LipschitzRegressorCV,
    SBAFKernel,
    SymNetClassifier,
    SymNetRegressor,
)

ROWS = []


def _warn_text(caught):
    out = []
    for w in caught:
        if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
            continue
        out.append(f"{w.category.__name__}: {str(w.message)[:70]}")
    return out


def record(case, name, outcome, score, ref, warns, seconds):
    w = warns[0] if warns else "-"
    sc = "   -   " if score is None else f"{score:7.3f}"
    rf = "   -   " if ref is None else f"{ref:7.3f}"
    print(f"{case:<34} {name:<26} {outcome:<8} {sc} {rf} {seconds:6.2f}s  {w}", flush=True)
    ROWS.append((case, name, outcome, score, ref, w))


def verdict(score, ref, warns, finite=True, constant=False):
    if not finite:
        return "NAN"
    if constant:  # a constant predictor is a failure whatever the reference does
        return "warned" if warns else "SILENT"
    if score is None or ref is None or score >= ref - 0.05 - 0.05 * abs(ref):
        return "ok"
    return "warned" if warns else "SILENT"


# -- scores -------------------------------------------------------------------------

def reg_score(y, p, loss="squared_error", q=0.5):
    if not np.all(np.isfinite(p)):
        return None
    if len(y) < 2:  # one row: 1 when the prediction interpolates it, else 0
        return float(np.allclose(p, y, rtol=1e-6, atol=1e-9))
    if loss in ("quantile", "absolute_error"):
        base = mean_pinball_loss(y, np.full_like(y, np.quantile(y, q)), alpha=q)
        return 1.0 - mean_pinball_loss(y, p, alpha=q) / max(base, 1e-300)
    return r2_score(y, p)


def clf_score(y, est, X, auc=False):
    if auc:
        P = est.predict_proba(X) if hasattr(est, "predict_proba") else None
        if P is None or not np.all(np.isfinite(P)):
            return None
        return roc_auc_score(y, P[:, 1])
    return float(np.mean(est.predict(X) == y))


# -- runners ------------------------------------------------------------------------

REG_REF = {
    "squared_error": lambda: LinearRegression(),
    "lasso": lambda: Lasso(alpha=1e-3, max_iter=100000, tol=1e-10),
    "huber": lambda: HuberRegressor(max_iter=2000),
    "absolute_error": lambda: QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs"),
    "quantile": lambda: QuantileRegressor(quantile=0.8, alpha=0.0, solver="highs"),
}


def _attempt(case, name, action, expect_raise):
    """Run ``action`` recording its warnings: ``(result, warnings, seconds)``,
    or None once the outcome is recorded (an exception: 'ok-raise' when it is
    the expected ValueError, else 'ERROR'; no exception where one was
    expected: 'SILENT')."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = action()
        except Exception as exc:  # noqa: BLE001
            ok = expect_raise is not None and isinstance(exc, ValueError) and \
                expect_raise.lower() in str(exc).lower()
            record(case, name, "ok-raise" if ok else "ERROR", None, None,
                   [f"{type(exc).__name__}: {str(exc)[:80]}"], time.perf_counter() - t0)
            return None
    dt = time.perf_counter() - t0
    warns = _warn_text(caught)
    if expect_raise is not None:
        record(case, name, "SILENT", None, None, ["accepted " + expect_raise] + warns, dt)
        return None
    return result, warns, dt


def run_reg(case, name, est, X, y, *, loss="squared_error", ref=None, Xs=None, expect_raise=None,
            fit=None, rows=None):
    """``rows``: score on these rows only (the reference is fitted on them)."""
    q = 0.8 if loss == "quantile" else 0.5

    def action():
        (fit or est.fit)(X, y)
        return est.predict(X)

    attempt = _attempt(case, name, action, expect_raise)
    if attempt is None:
        return
    p, warns, dt = attempt
    p = np.asarray(p)
    if rows is not None:
        X, y, p = X[rows], y[rows], p[rows]
    if p.ndim == 2 and p.shape[1] == 1 and np.ndim(y) == 1:
        p = p.ravel()
    score = reg_score(y, p, loss, q) if p.ndim == 1 else r2_score(y, p)
    ref_score = None
    if ref is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Xr = Xs if Xs is not None else X
            try:
                rp = ref.fit(Xr, y).predict(Xr)
            except Exception:  # noqa: BLE001 - the reference fails on this data too
                rp = None
        if rp is not None:
            ref_score = reg_score(y, rp, loss, q) if np.ndim(rp) == 1 else r2_score(y, rp)
    constant = p.ndim == 1 and len(y) > 2 and np.ptp(y) > 0 and np.ptp(p) == 0
    record(case, name, verdict(score, ref_score, warns, score is not None, constant), score,
           ref_score, warns, dt)


def run_clf(case, name, est, X, y, *, ref=None, auc=False, expect_raise=None, fit=None,
            Xs=None, rows=None):
    """``rows``: score on these rows only (the reference is fitted on them)."""
    def action():
        (fit or est.fit)(X, y)
        if rows is None:
            return clf_score(y, est, X, auc)
        return clf_score(y[rows], est, X[rows], auc)

    attempt = _attempt(case, name, action, expect_raise)
    if attempt is None:
        return
    score, warns, dt = attempt
    ref_score = None
    if ref is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Xr = Xs if Xs is not None else X
            yr = y
            if rows is not None:
                Xr, yr = Xr[rows], y[rows]
            try:
                ref.fit(Xr, yr)
                ref_score = clf_score(yr, ref, Xr, auc)
            except Exception:  # noqa: BLE001 - the reference fails on this data too
                ref_score = None
    Xp = X if rows is None else X[rows]
    constant = not auc and len(np.unique(y)) > 1 and len(np.unique(est.predict(Xp))) == 1
    record(case, name, verdict(score, ref_score, warns, score is not None, constant), score,
           ref_score, warns, dt)


# -- data ---------------------------------------------------------------------------

def regression(n=200, d=5, seed=0, noise=0.3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    return X, X @ w + noise * rng.standard_normal(n)


def classification(n=300, d=5, seed=0, classes=2, imbalance=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if imbalance:
        y = np.zeros(n, dtype=int)
        pos = rng.choice(n, size=max(1, n // imbalance), replace=False)
        y[pos] = 1
        X[pos] += 1.5
        return X, y
    W = rng.standard_normal((d, classes)) * 2
    y = np.argmax(X @ W + 0.3 * rng.standard_normal((n, classes)), axis=1)
    return X, y


def regressors(quick):
    out = [
        ("LR squared", lambda: LipschitzRegressor(), "squared_error"),
        ("LR squared gd", lambda: LipschitzRegressor(solver="gd", max_iter=2000), "squared_error"),
        ("LR huber", lambda: LipschitzRegressor(loss="huber"), "huber"),
        ("LR absolute", lambda: LipschitzRegressor(loss="absolute_error"), "absolute_error"),
        ("LR quantile .8", lambda: LipschitzRegressor(loss="quantile", quantile=0.8), "quantile"),
        ("LR log_cosh", lambda: LipschitzRegressor(loss="log_cosh"), "squared_error"),
        ("LR squared l1 a=1e-3", lambda: LipschitzRegressor(penalty="l1", alpha=1e-3),
         "lasso"),
        ("SymNetRegressor", lambda: SymNetRegressor(hidden_layer_sizes=(16,), random_state=0),
         "squared_error"),
    ]
    if quick:
        out = [o for o in out if o[0] in ("LR squared", "LR absolute", "SymNetRegressor")]
    return out


def classifiers(quick):
    """(name, estimator factory, reference factory): the linear classifier
    against LogisticRegression, the network against MLPClassifier of the
    same width."""
    return [
        ("LQC", lambda: LipschitzQuantileClassifier(),
         lambda: LogisticRegression(max_iter=5000)),
        ("LQC batch_size=32", lambda: LipschitzQuantileClassifier(batch_size=32),
         lambda: LogisticRegression(max_iter=5000)),
        ("SymNetClassifier", lambda: SymNetClassifier(hidden_layer_sizes=(16,), random_state=0),
         lambda: MLPClassifier((16,), max_iter=500, random_state=0)),
    ][::2 if quick else 1]


def ref_for(loss):
    return REG_REF.get(loss, REG_REF["squared_error"])()


def sweep_regression(quick, only):
    X, y = regression()
    rng = np.random.default_rng(1)
    cases = {}
    Xc = X.copy()
    Xc[:, 2] = 3.0
    cases["constant column"] = (Xc, y)
    cases["duplicated columns"] = (np.hstack([X, X[:, :2]]), y)
    Xs = X.copy()
    Xs[:, 0] *= 1e6
    Xs[:, 1] *= 1e-6
    cases["1e6 and 1e-6 columns"] = (Xs, y)
    cases["y in raw units (1e4)"] = (X, 1e4 * y)
    cases["y tiny (1e-6)"] = (X, 1e-6 * y)
    cases["y offset 1e6 + noise"] = (X, 1e6 + y)
    Xn, yn = regression(n=20, d=60, seed=2)
    cases["n < d (20 x 60)"] = (Xn, yn)
    cases["n = 2 rows"] = (X[:2], y[:2])
    cases["n = 1 row"] = (X[:1], y[:1])
    cases["float32"] = (X.astype(np.float32), y.astype(np.float32))
    cases["Fortran order"] = (np.asfortranarray(X), y)
    cases["non-contiguous"] = (np.hstack([X, X])[:, ::2], y)
    tmp = tempfile.NamedTemporaryFile(suffix=".dat", delete=False)
    mm = np.memmap(tmp.name, dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    cases["memory map"] = (np.memmap(tmp.name, dtype=np.float64, mode="r", shape=X.shape), y)
    for case, (Xc_, yc_) in cases.items():
        if only and only not in case:
            continue
        for name, make, loss in regressors(quick):
            ref = ref_for(loss) if len(yc_) > 2 or loss in ("squared_error", "lasso") else None
            if case.startswith("n < d") and loss not in ("squared_error", "lasso"):
                ref = None  # the LP has many solutions; no single reference
            run_reg(case, name, make(), Xc_, yc_, loss=loss, ref=ref)
    # multi-target
    case = "multi-target (3 outputs)"
    if not only or only in case:
        Y = np.column_stack([y, -2 * y + 1, X[:, 0] ** 2])
        for name, make in [("LR squared", LipschitzRegressor),
                           ("SymNetRegressor",
                            lambda: SymNetRegressor(hidden_layer_sizes=(16,), random_state=0))]:
            run_reg(case, name, make(), X, Y, ref=LinearRegression())
    # wide sparse
    case = "sparse 2000 x 20000 d=1e-3"
    if not only or only in case:
        Xsp = sp.random(2000, 20000, density=1e-3, format="csr", random_state=3)
        w = np.zeros(20000)
        w[rng.choice(20000, 50, replace=False)] = rng.standard_normal(50) * 3
        ysp = Xsp @ w + 0.1 * rng.standard_normal(2000)
        for name, make, ref in [
            ("LR squared a=1e-3", lambda: LipschitzRegressor(alpha=1e-3), Ridge(alpha=2.0)),
            ("LR squared l1 a=1e-4",
             lambda: LipschitzRegressor(penalty="l1", alpha=1e-4), Ridge(alpha=2.0)),
            ("LR absolute a=1e-3",
             lambda: LipschitzRegressor(loss="absolute_error", alpha=1e-3), None),
        ]:
            run_reg(case, name, make(), Xsp, ysp, ref=ref)
    # NaN / inf
    for bad, val in [("NaN in X", np.nan), ("inf in X", np.inf)]:
        if only and only not in bad:
            continue
        Xb = X.copy()
        Xb[3, 1] = val
        for name, make, loss in regressors(True):
            run_reg(bad, name, make(), Xb, y, expect_raise="NaN" if val != val else "infinity")
    for bad, val in [("NaN in y", np.nan), ("inf in y", np.inf)]:
        if only and only not in bad:
            continue
        yb = y.copy()
        yb[3] = val
        for name, make, loss in regressors(True):
            run_reg(bad, name, make(), X, yb, expect_raise="NaN" if val != val else "infinity")
    # sample weights
    case = "sample_weight with zeros"
    if not only or only in case:
        sw = np.ones(len(y))
        sw[::3] = 0.0
        yz = y.copy()
        yz[::3] = 1e3  # rows with zero weight hold garbage
        for name, make, loss in regressors(quick):
            est = make()
            run_reg(case, name, est, X, yz, loss=loss, ref=ref_for(loss), rows=sw > 0,
                    fit=lambda a, b, e=est: e.fit(a, b, sample_weight=sw))
    case = "sample_weight ratio 1e8"
    if not only or only in case:
        sw = np.ones(len(y))
        sw[:100] = 1e8
        for name, make, loss in regressors(quick):
            est = make()
            run_reg(case, name, est, X, y, loss=loss, ref=None,
                    fit=lambda a, b, e=est: e.fit(a, b, sample_weight=sw))
    # partial_fit streams
    stream_cases = {
        "stream single rows": [slice(i, i + 1) for i in range(200)],
        "stream chunks of 20": [slice(i, i + 20) for i in range(0, 200, 20)],
    }
    for case, slices in stream_cases.items():
        if only and only not in case:
            continue
        for name, make in [("LR squared", LipschitzRegressor),
                           ("LR absolute", lambda: LipschitzRegressor(loss="absolute_error")),
                           ("SymNetRegressor",
                            lambda: SymNetRegressor(hidden_layer_sizes=(16,), random_state=0))]:
            est = make()

            def fit(a, b, e=est, s=slices):
                for _ in range(5):
                    for sl in s:
                        e.partial_fit(a[sl], b[sl])
            loss = "absolute_error" if "absolute" in name else "squared_error"
            run_reg(case + " x5", name, est, X, y, loss=loss, ref=ref_for(loss), fit=fit)
    case = "stream with empty chunk"
    if not only or only in case:
        for name, make in [("LR squared", LipschitzRegressor),
                           ("SymNetRegressor", lambda: SymNetRegressor(hidden_layer_sizes=(16,)))]:
            est = make()

            def fit(a, b, e=est):
                e.partial_fit(a[:50], b[:50])
                e.partial_fit(a[:0], b[:0])
                e.partial_fit(a[50:], b[50:])
            run_reg(case, name, est, X, y, expect_raise="sample", fit=fit)
    case = "stream chunks of constant y"
    if not only or only in case:
        order = np.argsort(y)
        Xo, yo = X[order], y[order]
        yq = np.round(yo)  # chunks of equal y
        for name, make in [("LR squared", LipschitzRegressor),
                           ("SymNetRegressor",
                            lambda: SymNetRegressor(hidden_layer_sizes=(16,), random_state=0))]:
            est = make()

            def fit(a, b, e=est):
                for _ in range(5):
                    for v in np.unique(b):
                        e.partial_fit(a[b == v], b[b == v])
            run_reg(case, name, est, Xo, yq, ref=LinearRegression(), fit=fit)
    for case, scale in [("X scaled 1e-10", 1e-10), ("X scaled 1e50", 1e50)]:
        if only and only not in case:
            continue
        for name, make, loss in regressors(True):
            run_reg(case, name, make(), X * scale, y, loss=loss, ref=ref_for(loss))
    case = "y 1e160 (squares overflow)"
    if not only or only in case:
        for name, make, loss in regressors(True):
            run_reg(case, name, make(), X, y * 1e160, expect_raise="magnitude")
    case = "float32 X, y 1e25"
    if not only or only in case:
        for name, make, loss in regressors(True):
            run_reg(case, name, make(), X.astype(np.float32), y * 1e25, expect_raise="magnitude")
    case = "stream, one column 1e3"
    if not only or only in case:
        Xu = X * [1e3, 1, 1, 1, 1]
        for name, make in [("LR squared", LipschitzRegressor),
                           ("LR absolute", lambda: LipschitzRegressor(loss="absolute_error"))]:
            est = make()

            def fit(a, b, e=est):
                for _ in range(5):
                    for s in range(0, len(b), 20):
                        e.partial_fit(a[s:s + 20], b[s:s + 20])
            loss = "absolute_error" if "absolute" in name else "squared_error"
            run_reg(case, name, est, Xu, y, loss=loss, ref=ref_for(loss), fit=fit)
    # an L2 penalty on a loss of bounded derivative does not scale with y
    for case, scale, alpha in [("L2 a=1e-4, y 1e12", 1e12, 1e-4), ("L2 a=1e-2, y 1e4", 1e4, 1e-2)]:
        if only and only not in case:
            continue
        for name, kw, loss in [("LR absolute", {"loss": "absolute_error"}, "absolute_error"),
                               ("LR quantile .8", {"loss": "quantile", "quantile": 0.8},
                                "quantile"),
                               ("LR log_cosh", {"loss": "log_cosh"}, "squared_error"),
                               ("LR huber", {"loss": "huber"}, "huber")]:
            run_reg(case, name, LipschitzRegressor(alpha=alpha, **kw), X, scale * y, loss=loss,
                    ref=ref_for(loss))
    case = "multi-target 1e-6 and 1e6"
    if not only or only in case:
        Y2 = np.column_stack([1e-6 * y, 1e6 * (X[:, 0] - X[:, 1])
                              + 1e5 * rng.standard_normal(len(y))])
        for name, make in [("LR squared", LipschitzRegressor),
                           ("LR absolute", lambda: LipschitzRegressor(loss="absolute_error")),
                           ("SymNetRegressor",
                            lambda: SymNetRegressor(hidden_layer_sizes=(16,), random_state=0))]:
            run_reg(case, name, make(), X, Y2, ref=LinearRegression())
    case = "early_stopping, 10 rows"
    if not only or only in case:
        for name, make in [("LR squared", LipschitzRegressor),
                           ("SymNetRegressor", lambda: SymNetRegressor(hidden_layer_sizes=(4,)))]:
            est = make().set_params(early_stopping=True)
            expect = "early_stopping" if name.startswith("Sym") else None
            run_reg(case, name, est, X[:10], y[:10], expect_raise=expect,
                    ref=None if expect else LinearRegression())
    case = "nonlinear y, 6 x 64 layers"
    if not only or only in case:
        Xnl, _ = regression(n=300)
        ynl = np.sin(Xnl[:, 0]) + Xnl[:, 1] ** 2
        for act in ["sbaf", "relu"]:
            run_reg(case, f"SymNetRegressor {act}",
                    SymNetRegressor(hidden_layer_sizes=(64,) * 6, activation=act,
                                    random_state=0), Xnl, ynl,
                    ref=MLPRegressor(hidden_layer_sizes=(64,) * 6, max_iter=1000,
                                     random_state=0))
    case = "gd, one column 1e4"
    if not only or only in case:
        Xu = X * [1e4, 1, 1, 1, 1]
        for name, kw, loss in [("LR squared gd", {}, "squared_error"),
                               ("LR absolute gd", {"loss": "absolute_error"}, "absolute_error"),
                               ("LR quantile .8 gd", {"loss": "quantile", "quantile": 0.8},
                                "quantile"),
                               ("LR squared batch 32", {"batch_size": 32}, "squared_error")]:
            kw = dict(kw, **({} if "batch_size" in kw else {"solver": "gd"}))
            run_reg(case, name, LipschitzRegressor(**kw), Xu, y, loss=loss, ref=ref_for(loss))
    # LipschitzRegressorCV
    case = "CV: y in raw units (1e4)"
    if not only or only in case:
        run_reg(case, "LipschitzRegressorCV", LipschitzRegressorCV(), X, 1e4 * y,
                ref=LinearRegression())
        run_reg("CV: 1e6 and 1e-6 columns", "LipschitzRegressorCV", LipschitzRegressorCV(),
                Xs, y, ref=LinearRegression())
        run_reg("CV: one column 1e4", "LipschitzRegressorCV", LipschitzRegressorCV(),
                X * [1e4, 1, 1, 1, 1], y, ref=LinearRegression())
        run_reg("CV: y offset 1e6", "LipschitzRegressorCV", LipschitzRegressorCV(),
                X, 1e6 + y, ref=LinearRegression())
        run_reg("CV: 4 rows, cv=5", "LipschitzRegressorCV", LipschitzRegressorCV(), X[:4], y[:4],
                expect_raise="n_splits")


def sweep_classification(quick, only):
    X, y = classification()
    cases = {}
    Xc = X.copy()
    Xc[:, 2] = 3.0
    cases["clf constant column"] = (Xc, y)
    cases["clf duplicated columns"] = (np.hstack([X, X[:, :2]]), y)
    Xs = X.copy()
    Xs[:, 0] *= 1e6
    Xs[:, 1] *= 1e-6
    cases["clf 1e6 and 1e-6 columns"] = (Xs, y)
    cases["clf string labels"] = (X, np.array(["no", "yes"])[y])
    cases["clf labels {-7, 1000}"] = (X, np.array([-7, 1000])[y])
    cases["clf float32"] = (X.astype(np.float32), y)
    cases["clf Fortran order"] = (np.asfortranarray(X), y)
    cases["clf n = 2 rows"] = (X[:2][[0, 1]], np.array([0, 1]))
    X3, y3 = classification(n=600, classes=5, seed=4)
    cases["clf 5 classes"] = (X3, y3)
    X50, y50 = classification(n=2000, d=20, classes=50, seed=5)
    cases["clf 50 classes"] = (X50, y50)
    Xn, yn = classification(n=20, d=60, seed=6)
    cases["clf n < d (20 x 60)"] = (Xn, yn)
    for case, (Xc_, yc_) in cases.items():
        if only and only not in case:
            continue
        # the mini-batch classifier on many classes takes minutes: left out there
        for name, make, ref in classifiers(quick or "classes" in case):
            run_clf(case, name, make(), Xc_, yc_, ref=ref() if len(yc_) > 2 else None)
    for case, k, n in [("clf imbalance 1 in 1000", 1000, 20000),
                       ("clf imbalance 1 in 5000", 5000, 50000)]:
        if only and only not in case:
            continue
        Xi, yi = classification(n=n, d=5, seed=7, imbalance=k)
        for name, make, _ in classifiers(True):
            run_clf(case + " (AUC)", name, make(), Xi, yi, auc=True,
                    ref=LogisticRegression(max_iter=5000))
    for bad, val in [("clf NaN in X", np.nan), ("clf inf in X", np.inf)]:
        if only and only not in bad:
            continue
        Xb = X.copy()
        Xb[3, 1] = val
        for name, make, _ in classifiers(True):
            run_clf(bad, name, make(), Xb, y, expect_raise="NaN" if val != val else "infinity")
    # streams
    for case in ["clf stream single rows", "clf stream chunks of one class",
                 "clf stream with empty chunk"]:
        if only and only not in case:
            continue
        for name, make, _ in classifiers(True):
            est = make()
            classes = np.unique(y)
            if case.endswith("single rows"):
                def fit(a, b, e=est):
                    for _ in range(3):
                        for i in range(len(b)):
                            e.partial_fit(a[i:i + 1], b[i:i + 1], classes=classes)
            elif case.endswith("one class"):
                def fit(a, b, e=est):
                    for _ in range(5):
                        for c in classes:
                            m = b == c
                            for s in range(0, m.sum(), 30):
                                e.partial_fit(a[m][s:s + 30], b[m][s:s + 30], classes=classes)
            else:
                def fit(a, b, e=est):
                    e.partial_fit(a[:50], b[:50], classes=classes)
                    e.partial_fit(a[:0], b[:0])
            run_clf(case, name, est, X, y, fit=fit, ref=LogisticRegression(),
                    expect_raise="sample" if "empty" in case else None)
    case = "clf sample_weight zeros"
    if not only or only in case:
        sw = np.ones(len(y))
        sw[::3] = 0
        yg = y.copy()
        yg[::3] = 1 - yg[::3]  # the zero-weight rows hold flipped labels
        keep = sw > 0
        for name, make, ref in classifiers(True):
            est = make()
            run_clf(case, name, est, X, yg, ref=ref(), rows=keep,
                    fit=lambda a, b, e=est: e.fit(a, b, sample_weight=sw))
    Xu = X * [1e3, 1, 1, 1, 1]
    for case, fit_kw in [("clf stream, one column 1e3", None)]:
        if only and only not in case:
            continue
        for name, make, ref in classifiers(True):
            est = make()

            def fit(a, b, e=est):
                for _ in range(5):
                    for s in range(0, len(b), 20):
                        e.partial_fit(a[s:s + 20], b[s:s + 20], classes=[0, 1])
            run_clf(case, name, est, Xu, y, ref=ref(), fit=fit)
    for case, scale in [("clf X scaled 1e-10", 1e-10), ("clf X scaled 1e50", 1e50),
                        ("clf X scaled 1e100", 1e100)]:
        if only and only not in case:
            continue
        for name, make, ref in classifiers(True):
            run_clf(case, name, make(), X * scale, y, ref=ref())
    case = "clf 100 classes x 3 rows"
    if not only or only in case:
        r = np.random.default_rng(8)
        y100 = np.repeat(np.arange(100), 3)
        X100 = r.standard_normal((300, 20)) + 3 * r.standard_normal((100, 20))[y100]
        for name, make, ref in classifiers(True):
            run_clf(case, name, make(), X100, y100, ref=LogisticRegression(max_iter=2000))
    for case, labels in [("clf bool labels", np.array([False, True])),
                         ("clf object labels", np.array(["a", "b"], dtype=object))]:
        if only and only not in case:
            continue
        for name, make, ref in classifiers(True):
            run_clf(case, name, make(), X, labels[y], ref=ref())
    case = "clf class with zero weights"
    if not only or only in case:
        sw3 = np.where(y3 == 2, 0.0, 1.0)
        keep3 = y3 != 2
        for name, make, ref in classifiers(True):
            est = make()
            run_clf(case, name, est, X3, y3, ref=ref(), rows=keep3,
                    fit=lambda a, b, e=est: e.fit(a, b, sample_weight=sw3))
    case = "clf stream, a class arrives late"
    if not only or only in case:
        late = np.argsort(y3 == 3, kind="stable")
        for name, make, ref in classifiers(True):
            est = make()

            def fit(a, b, e=est):
                for _ in range(5):
                    for s in range(0, len(b), 30):
                        e.partial_fit(a[late][s:s + 30], b[late][s:s + 30],
                                      classes=np.arange(5))
            run_clf(case, name, est, X3, y3, ref=ref(), fit=fit)
    case = "clf early_stopping, 10 rows"
    if not only or only in case:
        for name, make, _ in classifiers(True):
            run_clf(case, name, make().set_params(early_stopping=True), X[:10], y[:10],
                    expect_raise="early_stopping")
    case = "SBAFKernel + SVC"
    if not only or only in case:
        run_clf(case, "SVC(kernel=SBAFKernel())", SVC(kernel=SBAFKernel()), X, y,
                ref=SVC())
        run_clf("SBAFKernel 1e6 column", "SVC(kernel=SBAFKernel())", SVC(kernel=SBAFKernel()),
                Xs, y, ref=LogisticRegression(max_iter=5000))
        Xb = X.copy()
        Xb[3, 1] = np.nan
        run_clf("SBAFKernel NaN in X", "SVC(kernel=SBAFKernel())", SVC(kernel=SBAFKernel()),
                Xb, y, expect_raise="NaN")


def sweep_model_selection(only):
    from sklearn import config_context
    from sklearn.model_selection import GridSearchCV, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    case = "pipeline + GridSearchCV + sw"
    if only and only not in case:
        return
    X, y = regression(n=300)
    sw = np.ones(len(y))
    sw[:100] = 5.0
    with config_context(enable_metadata_routing=True):
        reg = LipschitzRegressor().set_fit_request(sample_weight=True).set_score_request(
            sample_weight=True)
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=True), reg)
        gs = GridSearchCV(pipe, {"lipschitzregressor__alpha": [0.0, 1e-2]}, cv=3)
        run_reg(case, "Pipeline(LR)", gs, X, y, ref=LinearRegression(),
                fit=lambda a, b: gs.fit(a, b, sample_weight=sw))
        t0 = time.perf_counter()
        res = cross_validate(make_pipeline(StandardScaler().set_fit_request(sample_weight=True),
                                           LipschitzRegressor().set_fit_request(sample_weight=True)
                                           .set_score_request(sample_weight=True)),
                             X, y, params={"sample_weight": sw}, cv=3)
        ref = cross_validate(LinearRegression().set_fit_request(sample_weight=True)
                             .set_score_request(sample_weight=True), X, y,
                             params={"sample_weight": sw}, cv=3)
        s, r = np.mean(res["test_score"]), np.mean(ref["test_score"])
        record("cross_validate + sw", "Pipeline(LR)", verdict(s, r, []), s, r, [],
               time.perf_counter() - t0)
        Xc, yc = classification()
        swc = np.where(np.arange(len(yc)) % 3 == 0, 4.0, 1.0)
        for name, est in [("LQC", LipschitzQuantileClassifier()),
                          ("SymNetClassifier", SymNetClassifier(hidden_layer_sizes=(8,),
                                                                random_state=0))]:
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = cross_validate(est.set_fit_request(sample_weight=True)
                                     .set_score_request(sample_weight=False), Xc, yc,
                                     params={"sample_weight": swc}, cv=3)
            ref = cross_validate(LogisticRegression(), Xc, yc, cv=3)
            s, r = np.mean(res["test_score"]), np.mean(ref["test_score"])
            w = _warn_text(caught)
            record("clf cross_validate + sw", name, verdict(s, r, w), s, r, w,
                   time.perf_counter() - t0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help="run the cases whose name has this")
    parser.add_argument("--quick", action="store_true", help="fewer regressor losses")
    parser.add_argument("--part", choices=["all", "reg", "clf", "select"], default="all")
    args = parser.parse_args()
    print(f"{'case':<34} {'estimator':<26} {'outcome':<8} {'score':>7} {'ref':>7} "
          f"{'time':>7}  warning")
    if args.part in ("all", "reg"):
        sweep_regression(args.quick, args.only)
    if args.part in ("all", "clf"):
        sweep_classification(args.quick, args.only)
    if args.part in ("all", "select"):
        sweep_model_selection(args.only)
    bad = [r for r in ROWS if r[2] in ("SILENT", "NAN", "ERROR")]
    print(f"\n{len(ROWS)} runs, {len(bad)} failures (SILENT / NAN / ERROR)")
    for r in bad:
        print("  ", r[0], "|", r[1], "|", r[2], "|", r[5])


if __name__ == "__main__":
    main()
