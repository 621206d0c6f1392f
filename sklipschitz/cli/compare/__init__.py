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

A task is one declarative :class:`Task` entry in :data:`TASKS`
(``_tasks.py``); a data set is one :class:`Dataset` entry in
:data:`DATASETS`.  Every result is a plain record dict (:func:`run_task`,
``_run.py``); functions appended to :data:`RECORD_HOOKS` may add columns to
it (resource reports).  Tables, CSV, Markdown and the plot are in
``_report.py``; the ``compare`` command itself in ``command.py``.
"""

from ._report import (
    CSV_COLUMNS,
    format_markdown,
    format_resource_table,
    format_text_table,
    markdown_report,
    plot_results,
    resource_rows,
    summary_lines,
    table_rows,
    write_csv,
    write_outputs,
)
from ._run import (
    RECORD_HOOKS,
    Progress,
    Settings,
    expected_fits,
    resource_hook,
    run_suite,
    run_task,
    score_tolerance,
)
from ._tasks import (
    DATASETS,
    LR_GRID,
    MLP_GRID,
    SGD_GRID,
    TASKS,
    Dataset,
    Task,
    d2_pinball,
    lipschitz_regressor,
    mlp_classifier,
    mlp_regressor,
    multi_output,
    quantile_classifier,
    quantile_regressor,
    select_tasks,
    sgd_classifier,
    sgd_regressor,
    symnet_classifier,
    symnet_regressor,
)

__all__ = [
    "CSV_COLUMNS", "DATASETS", "LR_GRID", "MLP_GRID", "RECORD_HOOKS", "SGD_GRID", "TASKS",
    "Dataset", "Progress", "Settings", "Task", "d2_pinball", "expected_fits",
    "format_markdown", "format_resource_table", "format_text_table", "lipschitz_regressor",
    "markdown_report", "mlp_classifier", "mlp_regressor", "multi_output", "plot_results",
    "quantile_classifier", "quantile_regressor", "resource_hook", "resource_rows", "run_suite",
    "run_task", "score_tolerance", "select_tasks", "sgd_classifier", "sgd_regressor",
    "summary_lines", "symnet_classifier", "symnet_regressor", "table_rows", "write_csv",
    "write_outputs",
]
