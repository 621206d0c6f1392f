"""Tests of ``sklipschitz fit`` / ``predict``, help and exit codes."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressor
from sklipschitz.cli import modelfile

from ._util import assert_one_line_error, num, read_csv, run, write_csv

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


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
                                  ["compare", "--folds", "three"], ["predict", "model.skm"]])
def test_usage_errors_exit_2(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "error" in err and "Traceback" not in err


def test_console_entry_point_and_module_run_as_users_call_them(diabetes_csv, tmp_path):
    path, _, _ = diabetes_csv
    env = {**os.environ, "SKLIPSCHITZ_TRACEBACK": ""}
    bad = subprocess.run([sys.executable, "-m", "sklipschitz", "fit", path, "--target", "nope",
                          "--out", str(tmp_path / "m.skm")],
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
    model = tmp_path / "model.skm"
    code, out, err = run(capsys, "fit", path, "--target", "target", "--out", str(model))
    assert code == 0, err
    assert "LipschitzRegressor" in out and "442 rows x 10 columns" in out
    bundle = modelfile.load(model)
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
    model = tmp_path / "q.skm"
    code, out, err = run(capsys, "fit", path, "--target", "target", "--quantile", "0.9",
                         "--param", "alpha=0.0", "--out", str(model))
    assert code == 0, err
    est = modelfile.load(model)["pipeline"][-1]
    assert est.loss == "quantile" and est.quantile == 0.9
    pred = modelfile.load(model)["pipeline"].predict(X)
    assert abs(np.mean(y <= pred) - 0.9) < 0.02
    assert "below the prediction" in out


def test_classifier_with_one_hot_and_probabilities(capsys, iris_csv, tmp_path):
    path, X, species = iris_csv
    model = tmp_path / "clf.skm"
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
                       "--out", str(tmp_path / "m.skm"))
    assert code == 1
    assert_one_line_error(err, "target column 'species' is not numeric", "--model")
    code, _, err = run(capsys, "fit", path, "--target", "pw", "--drop", "color,species",
                       "--out", str(tmp_path / "m.skm"))
    assert code == 0, err
    assert modelfile.load(tmp_path / "m.skm")["features"] == ["sl", "sw", "pl"]


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
    code, _, err = run(capsys, "fit", path, "--target", "y", "--out", str(tmp_path / "m.skm"))
    assert code == 1
    assert_one_line_error(err, *fragments)


def test_fit_file_and_parameter_errors(capsys, diabetes_csv, tmp_path):
    path, _, _ = diabetes_csv
    out = str(tmp_path / "m.skm")
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
                       "--out", str(tmp_path / "no" / "dir" / "m.skm"))
    assert code == 1 and "does not exist" in err


def test_predict_errors(capsys, diabetes_csv, iris_csv, tmp_path):
    import joblib

    path, _, _ = diabetes_csv
    iris, _, _ = iris_csv
    model = str(tmp_path / "m.skm")
    assert run(capsys, "fit", path, "--target", "target", "--out", model)[0] == 0
    code, _, err = run(capsys, "predict", path, path)
    assert code == 1
    assert_one_line_error(err, "not a model file")
    joblib.dump({"something": "else"}, tmp_path / "other.joblib")
    code, _, err = run(capsys, "predict", str(tmp_path / "other.joblib"), path)
    assert code == 1
    assert_one_line_error(err, "not a model file", "--trust-pickle")
    code, _, err = run(capsys, "predict", str(tmp_path / "other.joblib"), path, "--trust-pickle")
    assert code == 1
    assert_one_line_error(err, "not a model file written by 'sklipschitz fit'")
    modelfile.dump({"something": "else"}, tmp_path / "other.skm")
    code, _, err = run(capsys, "predict", str(tmp_path / "other.skm"), path)
    assert code == 1
    assert_one_line_error(err, "not a model file written by 'sklipschitz fit'")
    code, _, err = run(capsys, "predict", model, iris)
    assert code == 1
    assert_one_line_error(err, "missing column(s)", "x0")
    code, _, err = run(capsys, "predict", model, path, "--proba")
    assert code == 2 and "--proba needs a classifier" in err


@pytest.mark.parametrize("model", ["symnet-classifier", "symnet-regressor"])
def test_symnet_models(capsys, iris_csv, tmp_path, model):
    path, X, species = iris_csv
    target = "species" if model == "symnet-classifier" else "pw"
    drop = "color" if target == "species" else "color,species"
    out = str(tmp_path / "m.skm")
    code, _, err = run(capsys, "fit", path, "--target", target, "--model", model, "--drop", drop,
                       "--param", "hidden_layer_sizes=(10,)", "--param", "random_state=0",
                       "--out", out)
    assert code == 0, err
    est = modelfile.load(out)["pipeline"][-1]
    assert est.hidden_layer_sizes == (10,)
    code, out_csv, err = run(capsys, "predict", out, path)
    assert code == 0, err
    pred = [r[0] for r in csv.reader(out_csv.strip().splitlines()[1:])]
    if target == "species":
        assert np.mean(np.array(pred) == species) > 0.8
    else:
        assert np.corrcoef([float(p) for p in pred], X[:, 3])[0, 1] > 0.8


def test_several_quantile_levels_give_one_column_each(capsys, diabetes_csv, tmp_path):
    path, X, y = diabetes_csv
    model = str(tmp_path / "q.skm")
    code, out, err = run(capsys, "fit", path, "--target", "target", "--loss", "quantile",
                         "--param", "quantile=(0.1, 0.9)", "--json", "--out", model)
    assert code == 0, err
    score = json.loads(out)["training_score"]
    assert score["name"] == "fraction_below" and len(score["value"]) == 2
    assert abs(score["value"][0] - 0.1) < 0.03 and abs(score["value"][1] - 0.9) < 0.03
    code, out, err = run(capsys, "predict", model, path)
    assert code == 0, err
    header, *rows = list(csv.reader(out.strip().splitlines()))
    assert header == ["predicted_target_q0.1", "predicted_target_q0.9"]
    expected = modelfile.load(model)["pipeline"].predict(X)
    np.testing.assert_allclose(np.array(rows, dtype=float), expected, rtol=1e-12)
    below = np.mean(y[:, None] <= np.array(rows, dtype=float), axis=0)
    np.testing.assert_allclose(below, score["value"], rtol=1e-12)


def test_huber_loss_of_the_linear_regressor(capsys, diabetes_csv, tmp_path):
    path, X, y = diabetes_csv
    model = str(tmp_path / "h.skm")
    code, _, err = run(capsys, "fit", path, "--target", "target", "--loss", "huber",
                       "-q", "--out", model)
    assert code == 0, err
    est = modelfile.load(model)["pipeline"][-1]
    reference = make_pipeline(StandardScaler(), LipschitzRegressor(loss="huber")).fit(X, y)
    assert est.loss == "huber"
    np.testing.assert_array_equal(est.epsilon_, reference[-1].epsilon_)
    code, _, err = run(capsys, "fit", path, "--target", "target", "--model",
                       "symnet-regressor", "--loss", "huber", "--out", model)
    assert code == 2
    assert_one_line_error(err, "--loss must be one of", "for --model symnet-regressor")
