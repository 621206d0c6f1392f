"""Data sets and tasks of ``sklipschitz compare``: what is compared with what.

A task is one declarative :class:`Task` entry in :data:`TASKS`; a data set is
one :class:`Dataset` entry in :data:`DATASETS`.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: a function building a fresh estimator, with ``label`` and ``module`` attributes
Factory = Callable[[], Any]

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


def _make(path: str, **params: Any) -> Factory:
    """A factory ``() -> estimator`` for the class at ``'module:Class'``."""
    module, cls = path.split(":")

    def factory() -> Any:
        return getattr(importlib.import_module(module), cls)(**params)

    factory.module = module  # type: ignore[attr-defined]
    factory.label = cls  # type: ignore[attr-defined]
    return factory


def sgd_regressor() -> Factory:
    return _make("sklearn.linear_model:SGDRegressor", random_state=0)


def sgd_classifier() -> Factory:
    return _make("sklearn.linear_model:SGDClassifier", learning_rate="invscaling",
                 random_state=0)


def mlp_regressor() -> Factory:
    return _make("sklearn.neural_network:MLPRegressor", random_state=0)


def mlp_classifier() -> Factory:
    return _make("sklearn.neural_network:MLPClassifier", random_state=0)


def quantile_regressor(q: float) -> Factory:
    return _make("sklearn.linear_model:QuantileRegressor", quantile=q, alpha=0.0,
                 solver="highs")


def multi_output(factory: Factory) -> Factory:
    """``MultiOutputRegressor`` around a single-output baseline."""

    def wrapped() -> Any:
        from sklearn.multioutput import MultiOutputRegressor

        return MultiOutputRegressor(factory())

    wrapped.module = factory.module  # type: ignore[attr-defined]
    wrapped.label = f"MultiOutputRegressor({factory.label})"  # type: ignore[attr-defined]
    return wrapped


def lipschitz_regressor(**params: Any) -> Factory:
    return _make("sklipschitz.linear_model:LipschitzRegressor", **params)


def quantile_classifier(**params: Any) -> Factory:
    return _make("sklipschitz.linear_model:LipschitzQuantileClassifier", **params)


def symnet_classifier(**params: Any) -> Factory:
    return _make("sklipschitz.neural_network:SymNetClassifier", **params)


def symnet_regressor(**params: Any) -> Factory:
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
    ours: Any  # a Factory
    baseline: Any  # a Factory
    grid: dict | None
    scoring: Any  # str or (label, scorer factory)
    quick: bool = False
    note: str = ""

    @property
    def metric(self) -> str:
        return self.scoring if isinstance(self.scoring, str) else self.scoring[0]


def d2_pinball(q: float) -> tuple[str, Callable[[], Any]]:
    def scorer_factory() -> Any:
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
         quantile_regressor(0.9), None, d2_pinball(0.9), quick=True),
    Task("diabetes-q0.5", "diabetes", lipschitz_regressor(loss="quantile", quantile=0.5),
         quantile_regressor(0.5), None, d2_pinball(0.5)),
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


def select_tasks(patterns: list[str] | None = None, quick: bool = False,
                 tasks: list[Task] | None = None) -> list[Task]:
    """Tasks matching any of the shell-style ``patterns`` (all, or the quick set).

    Raises ``KeyError`` naming a pattern that matches nothing.
    """
    tasks = list(TASKS if tasks is None else tasks)
    if not patterns:
        return [t for t in tasks if t.quick] if quick else list(tasks)
    chosen: list[Task] = []
    for pat in patterns:
        hits = [t for t in tasks if fnmatch.fnmatchcase(t.name, pat)
                or fnmatch.fnmatchcase(t.dataset, pat)]
        if not hits:
            raise KeyError(pat)
        chosen.extend(t for t in hits if t not in chosen)
    return [t for t in tasks if t in chosen]
