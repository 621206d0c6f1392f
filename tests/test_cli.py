"""Tests of the command line (``sklipschitz`` / ``python -m sklipschitz``) and the
compare suite."""

import csv
import os
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressor
from sklipschitz import _compare as cmp
from sklipschitz.__main__ import main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def num(v):
    return repr(float(v))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory):
    X, y = load_diabetes(return_X_y=True)
    names = [f"x{j}" for j in range(X.shape[1])]
    path = tmp_path_factory.mktemp("data") / "diabetes.csv"
    write_csv(path, names + ["target"], [[*map(num, row), num(t)] for row, t in zip(X, y)])
    return str(path), X, y


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    X, y = load_iris(return_X_y=True)
    species = np.array(["setosa", "versicolor", "virginica"])[y]
    colors = np.array(["red", "blue", "green"])[np.arange(len(y)) % 3]
    path = tmp_path_factory.mktemp("data") / "iris.csv"
    rows = [[*map(num, row), c, s] for row, c, s in zip(X, colors, species)]
    write_csv(path, ["sl", "sw", "pl", "pw", "color", "species"], rows)
    return str(path), X, species


def assert_one_line_error(err, *fragments):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("sklipschitz")
    for frag in fragments:
        assert frag in lines[0], lines[0]


# ----------------------------------------------------------------------------
# help, usage errors, exit codes
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--help"], ["compare", "--help"], ["fit", "--help"],
                                  ["predict", "--help"]])
def test_help_for_every_command(capsys, argv):
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert out.startswith("usage: sklipschitz")


def test_version(capsys):
    from sklipschitz import __version__

    code, out, _ = run(capsys, "--version")
    assert code == 0 and __version__ in out


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["compare", "--bogus"], ["fit", "x.csv"],
                                  ["compare", "--folds", "three"], ["predict", "model.joblib"]])
def test_usage_errors_exit_2(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "error" in err and "Traceback" not in err


def test_console_entry_point_and_module_run_as_users_call_them(diabetes_csv, tmp_path):
    path, _, _ = diabetes_csv
    env = {**os.environ, "SKLIPSCHITZ_TRACEBACK": ""}
    bad = subprocess.run([sys.executable, "-m", "sklipschitz", "fit", path, "--target", "nope",
                          "--out", str(tmp_path / "m.joblib")],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 1
    assert_one_line_error(bad.stderr, "no column named 'nope'")
    usage = subprocess.run([sys.executable, "-m", "sklipschitz", "compare", "--tasks", "nope"],
                           capture_output=True, text=True, env=env)
    assert usage.returncode == 2
    assert_one_line_error(usage.stderr, "no task matches 'nope'")


# ----------------------------------------------------------------------------
# fit / predict
# ----------------------------------------------------------------------------


def test_fit_predict_roundtrip_matches_the_python_pipeline(capsys, diabetes_csv, tmp_path):
    path, X, y = diabetes_csv
    model = tmp_path / "model.joblib"
    code, out, err = run(capsys, "fit", path, "--target", "target", "--out", str(model))
    assert code == 0, err
    assert "LipschitzRegressor" in out and "442 rows x 10 columns" in out
    bundle = joblib.load(model)
    assert bundle["features"] == [f"x{j}" for j in range(10)]
    assert bundle["target"] == "target" and bundle["categorical"] == []
    assert [name for name, _ in bundle["pipeline"].steps] == ["scale", "model"]

    preds = tmp_path / "preds.csv"
    code, _, err = run(capsys, "predict", str(model), path, "--out", str(preds))
    assert code == 0, err
    header, rows = read_csv(preds)
    assert header == ["predicted_target"]
    got = np.array([float(r[0]) for r in rows])
    expected = make_pipeline(StandardScaler(), LipschitzRegressor()).fit(X, y).predict(X)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-7)

    # to stdout; extra columns (the target) are ignored, column order does not matter
    reordered = write_csv(tmp_path / "reordered.csv", ["target"] + [f"x{j}" for j in
                                                                    range(9, -1, -1)],
                          [[num(t), *map(num, row[::-1])] for row, t in zip(X[:5], y[:5])])
    code, out, _ = run(capsys, "predict", str(model), reordered)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "predicted_target"
    np.testing.assert_allclose([float(v) for v in lines[1:]], expected[:5], rtol=1e-7)


def test_fit_quantile_regressor_options(capsys, diabetes_csv, tmp_path):
    path, X, y = diabetes_csv
    model = tmp_path / "q.joblib"
    code, out, err = run(capsys, "fit", path, "--target", "target", "--quantile", "0.9",
                         "--param", "alpha=0.0", "--out", str(model))
    assert code == 0, err
    est = joblib.load(model)["pipeline"][-1]
    assert est.loss == "quantile" and est.quantile == 0.9
    pred = joblib.load(model)["pipeline"].predict(X)
    assert abs(np.mean(y <= pred) - 0.9) < 0.02
    assert "below the prediction" in out


def test_classifier_with_one_hot_and_probabilities(capsys, iris_csv, tmp_path):
    path, X, species = iris_csv
    model = tmp_path / "clf.joblib"
    code, _, err = run(capsys, "fit", path, "--target", "species", "--model",
                       "quantile-classifier", "--out", str(model))
    assert code == 1
    assert_one_line_error(err, "column 'color' is not numeric", "--one-hot")

    code, out, err = run(capsys, "fit", path, "--target", "species", "--model",
                         "quantile-classifier", "--one-hot", "--out", str(model))
    assert code == 0, err
    assert "one-hot: color" in out
    # an unseen category at predict time is encoded as all zeros
    rows = [[*map(num, x), "purple"] for x in X[:10]]
    new = write_csv(tmp_path / "new.csv", ["sl", "sw", "pl", "pw", "color"], rows)
    code, out, err = run(capsys, "predict", str(model), new, "--proba")
    assert code == 0, err
    lines = list(csv.reader(out.strip().splitlines()))
    assert lines[0] == ["predicted_species", "proba_setosa", "proba_versicolor",
                        "proba_virginica"]
    proba = np.array([[float(v) for v in r[1:]] for r in lines[1:]])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert {r[0] for r in lines[1:]} <= set(species)
    assert [r[0] for r in lines[1:]].count("setosa") >= 8  # the first rows are setosa


def test_drop_column_and_regressor_needs_numeric_target(capsys, iris_csv, tmp_path):
    path, _, _ = iris_csv
    code, _, err = run(capsys, "fit", path, "--target", "species", "--drop", "color",
                       "--out", str(tmp_path / "m.joblib"))
    assert code == 1
    assert_one_line_error(err, "target column 'species' is not numeric", "--model")
    code, _, err = run(capsys, "fit", path, "--target", "pw", "--drop", "color,species",
                       "--out", str(tmp_path / "m.joblib"))
    assert code == 0, err
    assert joblib.load(tmp_path / "m.joblib")["features"] == ["sl", "sw", "pl"]


@pytest.mark.parametrize(
    "header, rows, fragments",
    [
        (["a", "b", "y"], [["1", "2", "3"], ["4", "NA", "6"], ["7", "8", "9"]],
         ["column 'b'", "missing", "line 3"]),
        (["a", "b", "y"], [["1", "2", "3"], ["4", "", "6"]], ["column 'b'", "missing"]),
        (["a", "b", "y"], [["1", "2", "3"], ["4", "5", ""]], ["column 'y'", "missing"]),
        (["a", "b", "y"], [["1", "2", "3"], ["4", "5"]], ["line 3", "2 fields, expected 3"]),
        (["a", "b", "y"], [["1", "inf", "3"], ["4", "5", "6"]], ["column 'b'", "non-finite"]),
        (["a", "a", "y"], [["1", "2", "3"]], ["duplicate column"]),
        (["a", "b", "y"], [], ["no data rows"]),
    ],
)
def test_bad_data_is_a_one_line_runtime_error(capsys, tmp_path, header, rows, fragments):
    path = write_csv(tmp_path / "bad.csv", header, rows)
    code, _, err = run(capsys, "fit", path, "--target", "y", "--out", str(tmp_path / "m.joblib"))
    assert code == 1
    assert_one_line_error(err, *fragments)


def test_fit_file_and_parameter_errors(capsys, diabetes_csv, tmp_path):
    path, _, _ = diabetes_csv
    out = str(tmp_path / "m.joblib")
    code, _, err = run(capsys, "fit", str(tmp_path / "absent.csv"), "--target", "y", "--out", out)
    assert code == 1 and "no such file" in err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = run(capsys, "fit", str(empty), "--target", "y", "--out", out)
    assert code == 1 and "empty" in err
    for argv, frag in [
        (["--loss", "hinge"], "--loss must be one of"),
        (["--quantile", "1.5"], "between 0 and 1"),
        (["--loss", "squared_error", "--quantile", "0.3"], "--quantile needs --loss quantile"),
        (["--param", "nonsense=1"], "unknown parameter(s) for LipschitzRegressor: nonsense"),
        (["--param", "alpha=-1"], "'alpha' parameter"),
        (["--param", "alpha"], "NAME=VALUE"),
    ]:
        code, _, err = run(capsys, "fit", path, "--target", "target", *argv, "--out", out)
        assert code == 2, argv
        assert_one_line_error(err, frag)
    code, _, err = run(capsys, "fit", path, "--target", "target",
                       "--out", str(tmp_path / "no" / "dir" / "m.joblib"))
    assert code == 1 and "does not exist" in err


def test_predict_errors(capsys, diabetes_csv, iris_csv, tmp_path):
    path, _, _ = diabetes_csv
    iris, _, _ = iris_csv
    model = str(tmp_path / "m.joblib")
    assert run(capsys, "fit", path, "--target", "target", "--out", model)[0] == 0
    code, _, err = run(capsys, "predict", path, path)
    assert code == 1
    assert_one_line_error(err, "not a model file")
    joblib.dump({"something": "else"}, tmp_path / "other.joblib")
    code, _, err = run(capsys, "predict", str(tmp_path / "other.joblib"), path)
    assert code == 1 and "not a model file" in err
    code, _, err = run(capsys, "predict", model, iris)
    assert code == 1
    assert_one_line_error(err, "missing column(s)", "x0")
    code, _, err = run(capsys, "predict", model, path, "--proba")
    assert code == 2 and "--proba needs a classifier" in err


# ----------------------------------------------------------------------------
# compare
# ----------------------------------------------------------------------------


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
    with pytest.raises(KeyError):
        cmp.select_tasks(["no-such-task"])


def test_compare_command_end_to_end(capsys, tmp_path, monkeypatch):
    seen = {}

    def hook(record, context):
        seen.update(context)
        return {"hook_column": 42}

    monkeypatch.setattr(cmp, "RECORD_HOOKS", [hook])
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
                    cmp.quantile_regressor(0.8), None, cmp._d2_pinball(0.8))
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


@pytest.mark.skipif(not cmp.resources_available(), reason="sklipschitz.metrics not present")
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


@pytest.mark.parametrize("model", ["symnet-classifier", "symnet-regressor"])
def test_symnet_models(capsys, iris_csv, tmp_path, model):
    from sklipschitz._cli import available_models

    if model not in available_models():
        pytest.skip(f"{model} not in this installation")
    path, X, species = iris_csv
    target = "species" if model == "symnet-classifier" else "pw"
    drop = "color" if target == "species" else "color,species"
    out = str(tmp_path / "m.joblib")
    code, _, err = run(capsys, "fit", path, "--target", target, "--model", model, "--drop", drop,
                       "--param", "hidden_layer_sizes=(10,)", "--param", "random_state=0",
                       "--out", out)
    assert code == 0, err
    est = joblib.load(out)["pipeline"][-1]
    assert est.hidden_layer_sizes == (10,)
    code, out_csv, err = run(capsys, "predict", out, path)
    assert code == 0, err
    pred = [r[0] for r in csv.reader(out_csv.strip().splitlines()[1:])]
    if target == "species":
        assert np.mean(np.array(pred) == species) > 0.8
    else:
        assert np.corrcoef([float(p) for p in pred], X[:, 3])[0, 1] > 0.8


def test_a_failing_task_is_reported_and_the_others_run(capsys, monkeypatch):
    def broken(quick, seed):
        raise OSError("cannot read the data")

    monkeypatch.setitem(cmp.DATASETS, "broken", cmp.Dataset("broken", "regression", broken, ""))
    bad = cmp.Task("broken-linear", "broken", cmp.lipschitz_regressor(), cmp.sgd_regressor(),
                   cmp.SGD_GRID, "r2", quick=True)
    good = cmp.select_tasks(["diabetes-linear"])[0]
    monkeypatch.setattr(cmp, "TASKS", [bad, good])
    code, out, err = run(capsys, "compare", "--quick", "--no-progress")
    assert code == 1
    assert "diabetes-linear" in out and "broken-linear" not in out
    assert "task broken-linear failed: OSError: cannot read the data" in err
    assert "Traceback" not in err
