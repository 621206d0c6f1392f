"""The ``sklipschitz compare`` suite: default settings against a tuned baseline.

Each task pairs one of our estimators, used with its default settings, with
the scikit-learn estimator a user would otherwise pick and tune by
``GridSearchCV`` over its learning rate.  Both sides

* run in a ``Pipeline(StandardScaler(), estimator)``,
* are scored on the same cross-validation folds with the same metric,
* end with a model refitted on all the data (``GridSearchCV(refit=True)`` for
  the baseline, one final fit for ours), so the time is the whole workflow:
  cross-validation (and tuning) plus the final fit,
* run single-threaded (BLAS pools limited to one thread), one fit at a time.

The baseline's score is ``GridSearchCV.best_score_``: the mean CV score at the
best grid point, chosen on the same folds, so it is slightly optimistic (the
selection is not nested).  The comparison leans toward the baseline there, on
purpose.

Grids: ``eta0`` in {1e-4, 1e-3, 1e-2, 1e-1, 1} for ``SGDRegressor`` (its
default ``invscaling`` schedule) and ``SGDClassifier``
(``learning_rate='invscaling'``, since its default ``'optimal'`` schedule
ignores ``eta0``); ``learning_rate_init`` in {1e-4, ..., 1} for
``MLPClassifier``/``MLPRegressor`` (defaults otherwise).  Quantile tasks use
``QuantileRegressor(alpha=0, solver='highs')``, which has no learning rate:
it is cross-validated once, like ours.

A task is one declarative :class:`Task` entry in :data:`TASKS`; a data set is
one :class:`Dataset` entry in :data:`DATASETS`.  Every result is a plain
record dict (:func:`run_task`); functions registered in
:data:`RECORD_HOOKS` may add columns to it (resource reports).
"""

from __future__ import annotations

import csv
import fnmatch
import importlib
import io
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

# ----------------------------------------------------------------------------
# Data sets (bundled with scikit-learn, or seeded synthetic): no downloads
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """A data set: ``load(quick, seed) -> (X, y)`` and its kind."""

    name: str
    kind: str  # 'regression' | 'classification'
    load: Callable
    description: str


def _sklearn_loader(fname):
    def load(quick, seed):
        from sklearn import datasets

        X, y = getattr(datasets, fname)(return_X_y=True)
        return np.asarray(X, dtype=float), np.asarray(y)

    return load


def _heavy_tails_loader(n_full, n_quick):
    """Heteroscedastic Student-t(2) noise on a linear signal, mixed feature scales."""

    def load(quick, seed):
        n = n_quick if quick else n_full
        rng = np.random.default_rng(11 + seed)
        X = rng.standard_normal((n, 20)) * rng.uniform(0.5, 3, 20) + rng.uniform(-1, 1, 20)
        noise = rng.standard_t(2, n) * (1 + 0.5 * np.abs(X[:, 0]))
        return X, X @ rng.standard_normal(20) + 2 + noise

    return load


def _load_imbalanced(quick, seed):
    """Binary classification with 5% positives."""
    from sklearn.datasets import make_classification

    n = 3_000 if quick else 5_000
    return make_classification(
        n_samples=n, n_features=20, n_informative=8, n_redundant=4, weights=[0.95],
        flip_y=0.01, class_sep=0.8, random_state=seed,
    )


DATASETS = {
    d.name: d
    for d in [
        Dataset("diabetes", "regression", _sklearn_loader("load_diabetes"),
                "diabetes progression, 442 x 10"),
        Dataset("linnerud", "regression", _sklearn_loader("load_linnerud"),
                "3 physiological targets, 20 x 3 (multi-output)"),
        Dataset("heavy-tails", "regression", _heavy_tails_loader(50_000, 5_000),
                "synthetic, t(2) heteroscedastic noise, 20 features of mixed scale"),
        # the same generator, smaller: the LP baseline's time grows faster than n
        Dataset("heavy-tails-10k", "regression", _heavy_tails_loader(10_000, 4_000),
                "as heavy-tails, 10,000 rows (4,000 with --quick)"),
        Dataset("breast-cancer", "classification", _sklearn_loader("load_breast_cancer"),
                "binary, 569 x 30"),
        Dataset("iris", "classification", _sklearn_loader("load_iris"), "3 classes, 150 x 4"),
        Dataset("wine", "classification", _sklearn_loader("load_wine"), "3 classes, 178 x 13"),
        Dataset("digits", "classification", _sklearn_loader("load_digits"),
                "10 classes, 1797 x 64"),
        Dataset("imbalanced", "classification", _load_imbalanced,
                "synthetic binary, 5% positives, 20 features"),
    ]
}

# ----------------------------------------------------------------------------
# Estimators
# ----------------------------------------------------------------------------

LR_GRID = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]


def _make(path, **params):
    """A factory ``() -> estimator`` for the class at ``'module:Class'``."""
    module, cls = path.split(":")

    def factory():
        return getattr(importlib.import_module(module), cls)(**params)

    factory.module = module
    factory.label = cls
    return factory


def sgd_regressor():
    return _make("sklearn.linear_model:SGDRegressor", random_state=0)


def sgd_classifier():
    return _make("sklearn.linear_model:SGDClassifier", learning_rate="invscaling",
                 random_state=0)


def mlp_regressor():
    return _make("sklearn.neural_network:MLPRegressor", random_state=0)


def mlp_classifier():
    return _make("sklearn.neural_network:MLPClassifier", random_state=0)


def quantile_regressor(q):
    return _make("sklearn.linear_model:QuantileRegressor", quantile=q, alpha=0.0,
                 solver="highs")


def multi_output(factory):
    """``MultiOutputRegressor`` around a single-output baseline."""

    def wrapped():
        from sklearn.multioutput import MultiOutputRegressor

        return MultiOutputRegressor(factory())

    wrapped.module = factory.module
    wrapped.label = f"MultiOutputRegressor({factory.label})"
    return wrapped


def lipschitz_regressor(**params):
    return _make("sklipschitz.linear_model:LipschitzRegressor", **params)


def quantile_classifier(**params):
    return _make("sklipschitz.linear_model:LipschitzQuantileClassifier", **params)


def symnet_classifier(**params):
    return _make("sklipschitz.neural_network:SymNetClassifier", **params)


def symnet_regressor(**params):
    return _make("sklipschitz.neural_network:SymNetRegressor", **params)


# ----------------------------------------------------------------------------
# Tasks
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One comparison: our estimator (defaults) against a tuned baseline.

    ``grid`` maps baseline parameter names to the values ``GridSearchCV``
    tries (``None``: the baseline has no learning rate and is only
    cross-validated).  ``scoring`` is a scikit-learn scorer name or a
    ``(label, callable)`` pair.  ``quick`` marks the tasks of ``--quick``.
    """

    name: str
    dataset: str
    ours: Callable
    baseline: Callable
    grid: dict | None
    scoring: object
    quick: bool = False
    note: str = ""

    @property
    def metric(self):
        return self.scoring if isinstance(self.scoring, str) else self.scoring[0]


def _d2_pinball(q):
    def scorer_factory():
        from sklearn.metrics import d2_pinball_score, make_scorer

        return make_scorer(d2_pinball_score, alpha=q)

    return (f"d2_pinball(q={q})", scorer_factory)


SGD_GRID = {"eta0": LR_GRID}
MLP_GRID = {"learning_rate_init": LR_GRID}

TASKS = [
    Task("diabetes-linear", "diabetes", lipschitz_regressor(), sgd_regressor(), SGD_GRID, "r2",
         quick=True),
    # linnerud has 20 rows: R^2 on test folds of 4 rows is noise, the mean absolute error
    # (a per-row average) is not
    Task("linnerud-linear", "linnerud", lipschitz_regressor(), multi_output(sgd_regressor()),
         {"estimator__eta0": LR_GRID}, "neg_mean_absolute_error", quick=True),
    Task("heavy-tails-linear", "heavy-tails", lipschitz_regressor(), sgd_regressor(), SGD_GRID,
         "r2", quick=True),
    Task("heavy-tails-q0.9", "heavy-tails-10k", lipschitz_regressor(loss="quantile", quantile=0.9),
         quantile_regressor(0.9), None, _d2_pinball(0.9), quick=True),
    Task("diabetes-q0.5", "diabetes", lipschitz_regressor(loss="quantile", quantile=0.5),
         quantile_regressor(0.5), None, _d2_pinball(0.5)),
    Task("breast-cancer-linear", "breast-cancer", quantile_classifier(), sgd_classifier(),
         SGD_GRID, "accuracy", quick=True),
    Task("iris-linear", "iris", quantile_classifier(), sgd_classifier(), SGD_GRID, "accuracy",
         quick=True),
    Task("wine-linear", "wine", quantile_classifier(), sgd_classifier(), SGD_GRID, "accuracy"),
    Task("digits-linear", "digits", quantile_classifier(), sgd_classifier(), SGD_GRID,
         "accuracy"),
    Task("imbalanced-linear", "imbalanced", quantile_classifier(), sgd_classifier(), SGD_GRID,
         "roc_auc", quick=True),
    Task("diabetes-mlp", "diabetes", symnet_regressor(random_state=0), mlp_regressor(),
         MLP_GRID, "r2", quick=True),
    Task("linnerud-mlp", "linnerud", symnet_regressor(random_state=0), mlp_regressor(),
         MLP_GRID, "neg_mean_absolute_error"),
    Task("breast-cancer-mlp", "breast-cancer", symnet_classifier(random_state=0),
         mlp_classifier(), MLP_GRID, "accuracy"),
    Task("iris-mlp", "iris", symnet_classifier(random_state=0), mlp_classifier(), MLP_GRID,
         "accuracy", quick=True),
    Task("wine-mlp", "wine", symnet_classifier(random_state=0), mlp_classifier(), MLP_GRID,
         "accuracy"),
    Task("digits-mlp", "digits", symnet_classifier(random_state=0), mlp_classifier(), MLP_GRID,
         "accuracy"),
    Task("imbalanced-mlp", "imbalanced", symnet_classifier(random_state=0), mlp_classifier(),
         MLP_GRID, "roc_auc"),
]


def task_available(task):
    """Whether both estimators of ``task`` can be imported."""
    return all(importlib.util.find_spec(f.module) is not None for f in (task.ours, task.baseline))


def select_tasks(patterns=None, quick=False, tasks=None):
    """Tasks matching any of the shell-style ``patterns`` (all, or the quick set).

    Raises ``KeyError`` naming a pattern that matches nothing.
    """
    tasks = [t for t in (TASKS if tasks is None else tasks) if task_available(t)]
    if not patterns:
        return [t for t in tasks if t.quick] if quick else list(tasks)
    chosen = []
    for pat in patterns:
        hits = [t for t in tasks if fnmatch.fnmatchcase(t.name, pat)
                or fnmatch.fnmatchcase(t.dataset, pat)]
        if not hits:
            raise KeyError(pat)
        chosen.extend(t for t in hits if t not in chosen)
    return [t for t in tasks if t in chosen]


# ----------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------

# Functions ``hook(record, context) -> dict`` adding columns to each record;
# ``context`` has the task, the data, the folds and both fitted final models.
RECORD_HOOKS: list = []


@dataclass
class Settings:
    quick: bool = False
    seed: int = 0
    n_splits: int | None = None  # default: 3 with --quick, else 5
    resources: bool = False  # add the sklipschitz.metrics columns (resource_hook)
    command: str = "sklipschitz compare"  # shown in the Markdown report

    @property
    def folds(self):
        return self.n_splits or (3 if self.quick else 5)


def _pipeline(estimator):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline([("scale", StandardScaler()), ("model", estimator)])


def _folds(task, X, y, settings):
    from sklearn.model_selection import KFold, StratifiedKFold

    kind = DATASETS[task.dataset].kind
    splitter = (StratifiedKFold if kind == "classification" else KFold)(
        n_splits=settings.folds, shuffle=True, random_state=settings.seed
    )
    return list(splitter.split(X, y))


def _scorer(task):
    return task.scoring if isinstance(task.scoring, str) else task.scoring[1]()


class _Clock:
    """Wall and CPU time of a block."""

    def __enter__(self):
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


def _warm_up(pipe, X, y, folds):
    """One untimed fit on a small training fold: imports, caches, first calls."""
    from sklearn.base import clone

    idx = folds[0][0][: min(len(folds[0][0]), 200)]
    try:
        clone(pipe).fit(X[idx], y[idx])
    except Exception:  # noqa: BLE001 - a failing warm-up shows up in the timed run
        pass


def _cross_validate_and_refit(pipe, X, y, folds, scorer):
    """The untuned workflow: CV on the folds, then one fit on all the data."""
    from sklearn.base import clone
    from sklearn.model_selection import cross_validate

    _warm_up(pipe, X, y, folds)
    with _Clock() as clock:
        cv = cross_validate(pipe, X, y, cv=folds, scoring=scorer, error_score="raise")
        final = clone(pipe).fit(X, y)
    scores = cv["test_score"]
    return {
        "score": float(np.mean(scores)), "score_std": float(np.std(scores)),
        "time": clock.wall, "cpu": clock.cpu, "fits": len(folds) + 1, "best": "defaults",
        "failed_fits": 0,
    }, final


def _run_ours(task, X, y, folds, scorer):
    return _cross_validate_and_refit(_pipeline(task.ours()), X, y, folds, scorer)


def _run_baseline(task, X, y, folds, scorer):
    """GridSearchCV over the learning rate (or the untuned workflow without a grid)."""
    from sklearn.model_selection import GridSearchCV

    pipe = _pipeline(task.baseline())
    if task.grid is None:
        return _cross_validate_and_refit(pipe, X, y, folds, scorer)
    _warm_up(pipe, X, y, folds)
    grid = {f"model__{k}": v for k, v in task.grid.items()}
    search = GridSearchCV(pipe, grid, cv=folds, scoring=scorer, refit=True, n_jobs=None,
                          error_score=np.nan)
    with _Clock() as clock:
        search.fit(X, y)
    res = search.cv_results_
    best = search.best_index_
    n_cand = len(res["params"])
    split_scores = np.array([res[f"split{i}_test_score"] for i in range(len(folds))])
    best_params = ", ".join(f"{k.split('__')[-1]}={v:g}" if isinstance(v, float)
                            else f"{k.split('__')[-1]}={v}"
                            for k, v in search.best_params_.items())
    return {
        "score": float(search.best_score_), "score_std": float(res["std_test_score"][best]),
        "time": clock.wall, "cpu": clock.cpu, "fits": n_cand * len(folds) + 1,
        "best": best_params, "failed_fits": int(np.isnan(split_scores).sum()),
    }, search.best_estimator_


def _final_estimator(model):
    return model.steps[-1][1] if hasattr(model, "steps") else model


def run_task(task, settings=None, progress=None):
    """Run one task; returns its record dict (one flat row of the results)."""
    from threadpoolctl import threadpool_limits

    settings = settings or Settings()
    dataset = DATASETS[task.dataset]
    X, y = dataset.load(settings.quick, settings.seed)
    folds = _folds(task, X, y, settings)
    scorer = _scorer(task)
    n_grid = 1
    if task.grid:
        n_grid = int(np.prod([len(v) for v in task.grid.values()]))
    record = {
        "task": task.name, "dataset": task.dataset, "n_samples": X.shape[0],
        "n_features": X.shape[1], "metric": task.metric, "folds": len(folds),
        "ours": task.ours.label, "baseline": task.baseline.label,
        "tuned": f"{'x'.join(task.grid)} ({n_grid} values)" if task.grid else "none",
    }
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if progress:
            progress.step(f"{task.name}: {task.ours.label} (defaults)", 0)
        ours, ours_model = _run_ours(task, X, y, folds, scorer)
        if progress:
            progress.step(f"{task.name}: {task.baseline.label}"
                          + (" (GridSearchCV)" if task.grid else ""), ours["fits"])
        base, base_model = _run_baseline(task, X, y, folds, scorer)
        if progress:
            progress.step(f"{task.name}: done", base["fits"])
    for side, res in (("ours", ours), ("baseline", base)):
        for key, value in res.items():
            record[f"{side}_{key}"] = value
    record["score_diff"] = ours["score"] - base["score"]
    record["tolerance"] = score_tolerance(task.metric, base["score"])
    record["score_close"] = bool(record["score_diff"] >= -record["tolerance"])
    record["speedup"] = base["time"] / ours["time"] if ours["time"] > 0 else math.inf
    record["cpu_speedup"] = base["cpu"] / ours["cpu"] if ours["cpu"] > 0 else math.inf
    ours_est = _final_estimator(ours_model)
    record["ours_epochs"] = getattr(ours_est, "n_iter_", None)
    context = {"task": task, "X": X, "y": y, "folds": folds, "ours_model": ours_model,
               "baseline_model": base_model}
    hooks = list(RECORD_HOOKS) + ([resource_hook] if settings.resources else [])
    for hook in hooks:
        if progress:
            progress.step(f"{task.name}: {getattr(hook, '__name__', 'hook')}", 0)
        record.update(hook(record, context))
    return record


def resources_available():
    return importlib.util.find_spec("sklipschitz.metrics") is not None


def _epochs(estimator):
    n_iter = getattr(estimator, "n_iter_", None)
    if n_iter is None:
        return None
    n_iter = np.atleast_1d(n_iter)
    return int(n_iter.max()) if n_iter.size else None


def resource_hook(record, context):
    """Resource columns from :mod:`sklipschitz.metrics`.

    Per fit: our default model and the tuned baseline (at its chosen learning
    rate) are each refitted once on all the data under
    ``metrics.resource_report`` (epochs, CPU seconds, peak traced memory, CO2
    by the CPU-time estimate).  Per workflow: the CO2 estimate of the CPU time
    of the whole timed workflow (CV + tuning + refit), same formula.
    """
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    from . import metrics

    X, y = context["X"], context["y"]
    out = {}
    for side in ("ours", "baseline"):
        model = clone(context[f"{side}_model"])
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rep = metrics.resource_report(model, X, y, energy_method="estimate")
        out[f"{side}_fit_epochs"] = _epochs(_final_estimator(model))
        out[f"{side}_fit_cpu_s"] = rep.cpu_seconds
        out[f"{side}_fit_peak_mb"] = rep.peak_memory_mb
        out[f"{side}_fit_co2_mg"] = rep.co2_kg * 1e6
        kwh = record[f"{side}_cpu"] * metrics.DEFAULT_CPU_WATTS_PER_CORE / 3.6e6
        out[f"{side}_workflow_co2_mg"] = kwh * metrics.DEFAULT_CARBON_INTENSITY * 1e3
    return out


# scores on a fixed scale (1 is perfect): "as good" means within 0.01
NORMALIZED_METRICS = ("r2", "accuracy", "balanced_accuracy", "roc_auc", "d2_")


def score_tolerance(metric, baseline_score):
    """0.01 for scores on a fixed scale (R^2, accuracy, AUC, D^2); 1% of the
    baseline's score for error metrics in the data's units (e.g. MAE)."""
    if metric.startswith(NORMALIZED_METRICS):
        return 0.01
    return 0.01 * abs(baseline_score)


def expected_fits(task, settings):
    k = settings.folds
    if task.grid:
        return k + 1 + int(np.prod([len(v) for v in task.grid.values()])) * k + 1
    return 2 * (k + 1)


def run_suite(tasks, settings=None, progress=None, failures=None):
    """Run the tasks in order; returns the list of record dicts.

    A task that raises is left out of the records; with a ``failures`` list
    the error is appended to it as ``(task name, exception)`` and the other
    tasks still run, otherwise the exception propagates.
    """
    settings = settings or Settings()
    if progress:
        progress.start(sum(expected_fits(t, settings) for t in tasks))
    records = []
    for t in tasks:
        try:
            records.append(run_task(t, settings, progress))
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            if failures is None:
                raise
            failures.append((t.name, exc))
            if progress:
                progress.step(f"{t.name}: failed", 0)
    if progress:
        progress.finish()
    return records


# ----------------------------------------------------------------------------
# Progress bar (stderr; redraws in place on a terminal, one line per step otherwise)
# ----------------------------------------------------------------------------


class Progress:
    def __init__(self, stream=None, width=28):
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.total = self.done = 0
        self.t0 = time.perf_counter()
        self._last_len = 0

    def start(self, total):
        self.total, self.done, self.t0 = max(total, 1), 0, time.perf_counter()

    def step(self, message, advance):
        self.done = min(self.total, self.done + advance)
        frac = self.done / self.total
        bar = "#" * int(round(frac * self.width))
        line = (f"[{bar:<{self.width}}] {100 * frac:3.0f}% {self.done}/{self.total} fits "
                f"{time.perf_counter() - self.t0:6.1f}s  {message}")
        if self.tty:
            pad = " " * max(0, self._last_len - len(line))
            self.stream.write("\r" + line + pad)
            self._last_len = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self):
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


# ----------------------------------------------------------------------------
# Output: table (stdout / Markdown), CSV, plot
# ----------------------------------------------------------------------------

CSV_COLUMNS = [
    "task", "dataset", "n_samples", "n_features", "metric", "folds", "ours", "baseline", "tuned",
    "baseline_best", "ours_score", "ours_score_std", "baseline_score", "baseline_score_std",
    "score_diff", "tolerance", "score_close", "ours_time", "baseline_time", "speedup",
    "ours_cpu", "baseline_cpu",
    "cpu_speedup", "ours_fits", "baseline_fits", "baseline_failed_fits", "ours_epochs",
]

TABLE_HEADER = ["task", "n x p", "metric", "ours", "score", "tuned baseline", "score", "diff",
                "time (s)", "tuned time (s)", "fits", "speed-up"]


def _fmt_time(t):
    return f"{t:.3f}" if t < 1 else f"{t:.2f}" if t < 100 else f"{t:.0f}"


def _short(label):
    return label.replace("MultiOutputRegressor(", "MultiOutput(")


METRIC_LABELS = {"neg_mean_absolute_error": "-MAE"}


def table_rows(records):
    rows = []
    for r in records:
        base = _short(r["baseline"])
        if r["baseline_best"] != "defaults":
            base += f" [{r['baseline_best']}]"
        rows.append([
            r["task"], f"{r['n_samples']} x {r['n_features']}",
            METRIC_LABELS.get(r["metric"], r["metric"]), r["ours"],
            f"{r['ours_score']:.3f}", base, f"{r['baseline_score']:.3f}",
            f"{r['score_diff']:+.3f}", _fmt_time(r["ours_time"]), _fmt_time(r["baseline_time"]),
            f"{r['ours_fits']} / {r['baseline_fits']}", f"{r['speedup']:.1f}x",
        ])
    return rows


def format_text_table(records):
    return _text_table(TABLE_HEADER, table_rows(records), {4, 6, 7, 8, 9, 10, 11})


RESOURCE_HEADER = ["task", "epochs (ours / tuned)", "CPU s per fit (ours / tuned)",
                   "peak MB per fit (ours / tuned)", "CO2 mg, workflow (ours / tuned)"]


def _pair(r, key, fmt):
    vals = [r.get(f"ours_{key}"), r.get(f"baseline_{key}")]
    return " / ".join("n/a" if v is None or v == "" else format(v, fmt) for v in vals)


def resource_rows(records):
    return [[r["task"], _pair(r, "fit_epochs", "d"), _pair(r, "fit_cpu_s", ".3g"),
             _pair(r, "fit_peak_mb", ".3g"), _pair(r, "workflow_co2_mg", ".3g")]
            for r in records if "ours_fit_cpu_s" in r]


def _text_table(header, rows, right):
    rows = [header] + rows
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for j, row in enumerate(rows):
        cells = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_resource_table(records):
    rows = resource_rows(records)
    return _text_table(RESOURCE_HEADER, rows, {1, 2, 3, 4}) if rows else ""


def _markdown_table(header, rows, right):
    head = "| " + " | ".join(header) + " |"
    align = "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"
    body = ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join([head, align, *body]) + "\n"


def format_markdown(records, settings=None):
    return _markdown_table(TABLE_HEADER, table_rows(records), {4, 6, 7, 8, 9, 10, 11})


def summary_lines(records):
    """The targets: score within 0.01 and the speed-ups against each baseline family."""
    lines = []
    if not records:
        return lines
    close = [r.get("score_close", r["score_diff"] >= -0.01) for r in records]
    behind = [r["task"] for r, ok in zip(records, close) if not ok]
    lines.append(f"score as good as the tuned baseline (within 0.01, or 1% for errors in data "
                 f"units) or better: {sum(close)}/{len(records)} tasks"
                 + (f"; behind: {', '.join(behind)}" if behind else ""))
    families = {}
    for r in records:
        fam = r["baseline"].replace("MultiOutputRegressor(", "").rstrip(")")
        families.setdefault(fam, []).append(r)
    for fam, recs in families.items():
        ratios = [r["speedup"] for r in recs]
        geo = math.exp(np.mean(np.log(ratios)))
        n = len(ratios)
        line = (f"speed-up vs {fam}: geometric mean {geo:.1f}x (min {min(ratios):.1f}x, "
                f"max {max(ratios):.1f}x, {n} task{'s' * (n > 1)})")
        cpu = [r["cpu_speedup"] for r in recs if r.get("cpu_speedup")]
        if len(cpu) == n:
            line += f"; CPU time: {math.exp(np.mean(np.log(cpu))):.1f}x"
        lines.append(line)
    return lines


def write_csv(records, path):
    extra = [k for r in records for k in r if k not in CSV_COLUMNS]
    columns = CSV_COLUMNS + list(dict.fromkeys(extra))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for r in records:
            writer.writerow({k: r.get(k, "") for k in columns})


def plot_results(records, path):
    """Score against total time (log scale), one panel per task; saves a PNG."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    n = len(records)
    ncols = min(4, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.9 * nrows), squeeze=False)
    for ax, r in zip(axes.flat, records):
        ax.plot([r["ours_time"], r["baseline_time"]], [r["ours_score"], r["baseline_score"]],
                color="0.8", zorder=1)
        ax.scatter([r["ours_time"]], [r["ours_score"]], color="tab:blue", marker="o",
                   s=45, zorder=2, label="sklipschitz (defaults)")
        ax.scatter([r["baseline_time"]], [r["baseline_score"]], color="tab:orange", marker="s",
                   s=45, zorder=2, label="tuned baseline")
        ax.set_xscale("log")
        ax.set_title(f"{r['task']}\n{_short(r['baseline'])}, {r['speedup']:.1f}x",
                     fontsize=8)
        ax.set_xlabel("total time (s)", fontsize=8)
        ax.set_ylabel(METRIC_LABELS.get(r["metric"], r["metric"]), fontsize=8)
        ax.tick_params(labelsize=7)
        lo, hi = sorted([r["ours_time"], r["baseline_time"]])
        lo, hi = lo / 2.5, hi * 2.5
        if hi / lo < 10:  # at least one decade, so a major tick is labelled
            mid = math.sqrt(lo * hi)
            lo, hi = mid / math.sqrt(10), mid * math.sqrt(10)
        ax.set_xlim(lo, hi)
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ys = [r["ours_score"], r["baseline_score"]]
        pad = max(0.02, 0.25 * (max(ys) - min(ys)))
        ax.set_ylim(min(ys) - pad, max(ys) + pad)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle("Cross-validated score vs total time (incl. tuning), higher-left is better",
                 fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(records, out_dir, settings=None):
    """CSV, Markdown and PNG into ``out_dir``; returns the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {}
    paths["csv"] = os.path.join(out_dir, "compare.csv")
    write_csv(records, paths["csv"])
    paths["markdown"] = os.path.join(out_dir, "compare.md")
    with open(paths["markdown"], "w") as f:
        f.write(markdown_report(records, settings))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        paths["png"] = None
    else:
        paths["png"] = os.path.join(out_dir, "compare.png")
        plot_results(records, paths["png"])
    return paths


def markdown_report(records, settings=None):
    settings = settings or Settings()
    buf = io.StringIO()
    buf.write(f"Command: `{settings.command}`; {settings.folds}-fold CV, seed "
              f"{settings.seed}, single-threaded. Scores are mean CV scores (baseline: "
              "best grid point). Time is CV + tuning + final refit.\n\n")
    buf.write(format_markdown(records, settings))
    lines = summary_lines(records)
    if lines:
        buf.write("\n" + "\n".join(f"- {line}" for line in lines) + "\n")
    res = resource_rows(records)
    if res:
        buf.write("\nResources (`--resources`, `sklipschitz.metrics`): one fit on all the data "
                  "of our default model and of the tuned baseline at its chosen learning rate "
                  "(epochs, CPU time, peak traced memory); CO2 of the CPU time of the whole "
                  "timed workflow (CPU-time estimate).\n\n")
        buf.write(_markdown_table(RESOURCE_HEADER, res, {1, 2, 3, 4}))
    return buf.getvalue()
