"""The command line on awkward tables: a constant column, a column too large to
standardize (benchmarks/bench_robustness.py sweeps the estimators)."""

import json

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from ._util import assert_one_line_error, num, read_csv, run, write_csv


def _table(tmp_path, big=None):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = X @ [1.0, -2.0] + 0.1 * rng.standard_normal(40)
    a = X[:, 0] * (big or 1.0)
    rows = [[num(a[i]), num(X[i, 1]), "5", num(y[i])] for i in range(40)]
    return write_csv(tmp_path / "data.csv", ["a", "b", "k", "y"], rows), X, y


def test_constant_column_fits_as_without_it(capsys, tmp_path):
    path, X, y = _table(tmp_path)
    model = str(tmp_path / "m.skm")
    assert run(capsys, "fit", path, "--target", "y", "--out", model, "-q")[0] == 0
    out = str(tmp_path / "p.csv")
    assert run(capsys, "predict", model, path, "--out", out)[0] == 0
    header, rows = read_csv(out)
    pred = np.array([float(r[0]) for r in rows])
    ref = LinearRegression().fit(X, y).predict(X)
    np.testing.assert_allclose(pred, ref, rtol=1e-8, atol=1e-8)


def test_column_too_large_to_standardize_is_named(capsys, tmp_path):
    # StandardScaler's variance overflowed and the fit stopped on
    # "Input X contains NaN", naming no column
    path, _, _ = _table(tmp_path, big=1e200)
    code, _, err = run(capsys, "fit", path, "--target", "y", "--out",
                       str(tmp_path / "m.skm"))
    assert code == 1
    assert_one_line_error(err, "column 'a'", "too large to standardize", "--drop a")
    # dropping it fits
    assert run(capsys, "fit", path, "--target", "y", "--drop", "a", "--out",
               str(tmp_path / "m.skm"), "-q")[0] == 0


@pytest.mark.parametrize("scale", [1e150])
def test_large_but_scalable_column_fits(capsys, tmp_path, scale):
    path, X, y = _table(tmp_path, big=scale)
    assert run(capsys, "fit", path, "--target", "y", "--out", str(tmp_path / "m.skm"),
               "-q")[0] == 0


@pytest.mark.parametrize("rows", [[["1", "2", "3"]], [["1", "2", "7"], ["2", "5", "7"],
                                                      ["0", "1", "7"]]])
def test_training_score_where_r2_is_undefined(capsys, tmp_path, rows):
    # one row (R^2 undefined: scikit-learn's warning reached the user) or
    # targets that do not vary: the summary reports the root mean squared error
    path = write_csv(tmp_path / "d.csv", ["a", "b", "y"], rows)
    code, out, err = run(capsys, "fit", path, "--target", "y", "--out",
                         str(tmp_path / "m.skm"), "--json")
    assert code == 0
    assert "well-defined" not in err
    score = json.loads(out)["training_score"]
    y = np.array([float(r[2]) for r in rows])
    ref = LinearRegression().fit(np.array([[float(v) for v in r[:2]] for r in rows]), y)
    assert score["name"] == "root_mean_squared_error"
    assert score["value"] == pytest.approx(0.0, abs=1e-9)
    assert np.ptp(ref.predict(np.array([[float(v) for v in r[:2]] for r in rows]))) == 0
