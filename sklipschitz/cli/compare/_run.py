"""Running the tasks of ``sklipschitz compare``: folds, timing, tuning, records."""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from ._tasks import DATASETS, Task

#: one result row of ``compare``
Record = dict[str, Any]

# ----------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------

# Functions ``hook(record, context) -> dict`` adding columns to each record;
# ``context`` has the task, the data, the folds and both fitted final models.
RECORD_HOOKS: list[Callable[[Record, dict[str, Any]], dict[str, Any]]] = []


@dataclass
class Settings:
    quick: bool = False
    seed: int = 0
    n_splits: int | None = None  # default: 3 with --quick, else 5
    resources: bool = False  # add the sklipschitz.metrics columns (resource_hook)
    command: str = "sklipschitz compare"  # shown in the Markdown report

    @property
    def folds(self) -> int:
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


def run_task(task: Task, settings: Settings | None = None,
             progress: Progress | None = None) -> Record:
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


def resource_hook(record: Record, context: dict[str, Any]) -> dict[str, Any]:
    """Resource columns from :mod:`sklipschitz.metrics`.

    Per fit: our default model and the tuned baseline (at its chosen learning
    rate) are each refitted once on all the data under
    ``metrics.resource_report`` (epochs, CPU seconds, peak traced memory, CO2
    by the CPU-time estimate).  Per workflow: the CO2 estimate of the CPU time
    of the whole timed workflow (CV + tuning + refit), same formula.
    """
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    from sklipschitz import metrics

    X, y = context["X"], context["y"]
    out = {}
    for side in ("ours", "baseline"):
        model = clone(context[f"{side}_model"])
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rep = metrics.resource_report(model, X, y, energy_method="estimate")
        out[f"{side}_fit_epochs"] = metrics._epochs(_final_estimator(model))
        out[f"{side}_fit_cpu_s"] = rep.cpu_seconds
        out[f"{side}_fit_peak_mb"] = rep.peak_memory_mb
        out[f"{side}_fit_co2_mg"] = rep.co2_kg * 1e6
        kwh = record[f"{side}_cpu"] * metrics.DEFAULT_CPU_WATTS_PER_CORE / 3.6e6
        out[f"{side}_workflow_co2_mg"] = kwh * metrics.DEFAULT_CARBON_INTENSITY * 1e3
    return out


# scores on a fixed scale (1 is perfect): "as good" means within 0.01
NORMALIZED_METRICS = ("r2", "accuracy", "balanced_accuracy", "roc_auc", "d2_")


def score_tolerance(metric: str, baseline_score: float) -> float:
    """0.01 for scores on a fixed scale (R^2, accuracy, AUC, D^2); 1% of the
    baseline's score for error metrics in the data's units (e.g. MAE)."""
    if metric.startswith(NORMALIZED_METRICS):
        return 0.01
    return 0.01 * abs(baseline_score)


def expected_fits(task: Task, settings: Settings) -> int:
    k = settings.folds
    if task.grid:
        return k + 1 + int(np.prod([len(v) for v in task.grid.values()])) * k + 1
    return 2 * (k + 1)


def run_suite(tasks: list[Task], settings: Settings | None = None,
              progress: Progress | None = None,
              failures: list[tuple[str, BaseException]] | None = None) -> list[Record]:
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
    def __init__(self, stream: IO[str] | None = None, width: int = 28) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.total = self.done = 0
        self.t0 = time.perf_counter()
        self._last_len = 0

    def start(self, total: int) -> None:
        self.total, self.done, self.t0 = max(total, 1), 0, time.perf_counter()

    def step(self, message: str, advance: int) -> None:
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

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
