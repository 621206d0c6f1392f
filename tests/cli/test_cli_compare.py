"""Tests of ``sklipschitz compare`` and its suite."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressor
from sklipschitz.cli import compare as cmp
from sklipschitz.cli.compare import _run, _tasks

from ._util import read_csv, run

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_task_table_is_consistent():
    names = [t.name for t in cmp.TASKS]
    assert len(names) == len(set(names))
    for t in cmp.TASKS:
        assert t.dataset in cmp.DATASETS
        if t.grid is not None:
            # the documented grid: 1e-4 ... 1 on the baseline's learning rate
            (values,) = t.grid.values()
            np.testing.assert_allclose(values, [1e-4, 1e-3, 1e-2, 1e-1, 1.0])
            key = next(iter(t.grid)).split("__")[-1]
            assert key in {"eta0", "learning_rate_init"}
            assert key in t.baseline().get_params(deep=True) or \
                f"estimator__{key}" in t.baseline().get_params(deep=True)
    assert any(t.quick for t in cmp.select_tasks())
    for name, dataset in cmp.DATASETS.items():
        X, y = dataset.load(True, 0)
        assert len(X) == len(y) and np.all(np.isfinite(X))


def test_synthetic_data_is_seeded():
    a = cmp.DATASETS["heavy-tails"].load(True, 0)
    b = cmp.DATASETS["heavy-tails"].load(True, 0)
    c = cmp.DATASETS["heavy-tails"].load(True, 1)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_select_tasks_patterns():
    assert [t.name for t in cmp.select_tasks(["diabetes-linear"])] == ["diabetes-linear"]
    by_data = cmp.select_tasks(["diabetes"])
    assert by_data and all(t.dataset == "diabetes" for t in by_data)
    star = cmp.select_tasks(["heavy-tails*"])
    assert {t.dataset for t in star} == {"heavy-tails", "heavy-tails-10k"} and len(star) >= 2
    assert all(t.quick for t in cmp.select_tasks(quick=True))
    with pytest.raises(KeyError, match="no-such-task"):
        cmp.select_tasks(["no-such-task"])


def test_compare_command_end_to_end(capsys, tmp_path, monkeypatch):
    seen = {}

    def hook(record, context):
        seen.update(context)
        return {"hook_column": 42}

    monkeypatch.setattr(_run, "RECORD_HOOKS", [hook])
    out_dir = tmp_path / "results"
    code, out, err = run(capsys, "compare", "--quick", "--tasks", "diabetes-linear",
                         "--out", str(out_dir))
    assert code == 0, err
    assert "diabetes-linear" in out and "SGDRegressor" in out and "speed-up" in out
    assert "100%" in err  # the progress bar reached the end
    for name in ("compare.csv", "compare.md", "compare.png"):
        assert (out_dir / name).stat().st_size > 0
    header, rows = read_csv(out_dir / "compare.csv")
    rec = dict(zip(header, rows[0]))
    assert len(rows) == 1 and rec["task"] == "diabetes-linear"
    assert rec["hook_column"] == "42"
    # 3 folds with --quick: ours 3 CV fits + 1 final; baseline 5 grid values x 3 + refit
    assert int(rec["ours_fits"]) == 4 and int(rec["baseline_fits"]) == 16
    assert rec["baseline_best"].startswith("eta0=")
    # the reported score is the cross-validated score on the shared folds
    X, y = load_diabetes(return_X_y=True)
    folds = list(KFold(3, shuffle=True, random_state=0).split(X, y))
    for (a_train, a_test), (b_train, b_test) in zip(seen["folds"], folds):
        np.testing.assert_array_equal(a_test, b_test)
    ours = cross_val_score(make_pipeline(StandardScaler(), LipschitzRegressor()), X, y,
                           cv=folds).mean()
    assert float(rec["ours_score"]) == pytest.approx(ours, abs=1e-9)
    ratio = float(rec["baseline_time"]) / float(rec["ours_time"])
    assert float(rec["speedup"]) == pytest.approx(ratio, rel=1e-6)
    md = (out_dir / "compare.md").read_text()
    assert "| diabetes-linear |" in md and "speed-up" in md


def test_quantile_task_against_the_exact_baseline(monkeypatch):
    """A quantile task on small data: both sides solve the same linear program, so the
    cross-validated scores agree (the baseline is cross-validated once, no grid)."""

    def load(quick, seed):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((300, 4))
        return X, X @ [1.0, -2.0, 0.5, 0.0] + rng.standard_t(3, 300)

    monkeypatch.setitem(cmp.DATASETS, "tiny", cmp.Dataset("tiny", "regression", load, "tiny"))
    task = cmp.Task("tiny-q0.8", "tiny", cmp.lipschitz_regressor(loss="quantile", quantile=0.8),
                    cmp.quantile_regressor(0.8), None, cmp.d2_pinball(0.8))
    rec = cmp.run_task(task, cmp.Settings(quick=True))
    assert rec["baseline_fits"] == rec["ours_fits"] == 4
    assert rec["baseline_best"] == "defaults"
    assert rec["ours_score"] == pytest.approx(rec["baseline_score"], abs=1e-6)
    assert rec["metric"] == "d2_pinball(q=0.8)"


def test_text_table_and_summary():
    rec = {"task": "t", "n_samples": 10, "n_features": 2, "metric": "r2",
           "ours": "LipschitzRegressor", "baseline": "SGDRegressor", "baseline_best": "eta0=0.01",
           "ours_score": 0.5, "baseline_score": 0.52, "score_diff": -0.02, "ours_time": 0.1,
           "baseline_time": 2.0, "ours_fits": 6, "baseline_fits": 26, "speedup": 20.0}
    text = cmp.format_text_table([rec, {**rec, "task": "u", "score_diff": 0.0,
                                        "speedup": 5.0}])
    lines = text.splitlines()
    assert len(lines) == 4 and "20.0x" in lines[2] and "-0.020" in lines[2]
    summary = cmp.summary_lines([rec, {**rec, "task": "u", "score_diff": 0.0, "speedup": 5.0}])
    assert "1/2 tasks; behind: t" in summary[0]
    assert "geometric mean 10.0x" in summary[1]


def test_score_tolerance():
    assert cmp.score_tolerance("r2", 0.4) == 0.01
    assert cmp.score_tolerance("d2_pinball(q=0.9)", 0.4) == 0.01
    assert cmp.score_tolerance("roc_auc", 0.9) == 0.01
    assert cmp.score_tolerance("neg_mean_absolute_error", -12.0) == pytest.approx(0.12)


def test_resource_columns(capsys, tmp_path):
    from sklipschitz import metrics

    task = cmp.select_tasks(["diabetes-linear"])[0]
    rec = cmp.run_task(task, cmp.Settings(quick=True, resources=True))
    for side in ("ours", "baseline"):
        assert rec[f"{side}_fit_cpu_s"] >= 0 and rec[f"{side}_fit_peak_mb"] > 0
        expected = (rec[f"{side}_cpu"] * metrics.DEFAULT_CPU_WATTS_PER_CORE / 3.6e6
                    * metrics.DEFAULT_CARBON_INTENSITY * 1e3)
        assert rec[f"{side}_workflow_co2_mg"] == pytest.approx(expected)
    X, y = load_diabetes(return_X_y=True)
    fitted = make_pipeline(StandardScaler(), LipschitzRegressor()).fit(X, y)[-1]
    assert rec["ours_fit_epochs"] == fitted.n_iter_
    assert isinstance(rec["baseline_fit_epochs"], int) and rec["baseline_fit_epochs"] >= 1
    text = cmp.format_resource_table([rec])
    assert "diabetes-linear" in text and "CO2" in text
    md = cmp.markdown_report([rec], cmp.Settings(quick=True, command="sklipschitz compare -x"))
    assert "`sklipschitz compare -x`" in md
    assert f"| diabetes-linear | {rec['ours_fit_epochs']} / {rec['baseline_fit_epochs']} |" in md


def test_a_failing_task_is_reported_and_the_others_run(capsys, monkeypatch):
    def broken(quick, seed):
        raise OSError("cannot read the data")

    monkeypatch.setitem(cmp.DATASETS, "broken", cmp.Dataset("broken", "regression", broken, ""))
    bad = cmp.Task("broken-linear", "broken", cmp.lipschitz_regressor(), cmp.sgd_regressor(),
                   cmp.SGD_GRID, "r2", quick=True)
    good = cmp.select_tasks(["diabetes-linear"])[0]
    monkeypatch.setattr(_tasks, "TASKS", [bad, good])
    code, out, err = run(capsys, "compare", "--quick", "--no-progress")
    assert code == 1
    assert "diabetes-linear" in out and "broken-linear" not in out
    assert "task broken-linear failed: OSError: cannot read the data" in err
    assert "Traceback" not in err
