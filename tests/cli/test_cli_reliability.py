"""The command line's reliability: atomic output files, arguments checked before any
work, one-line messages and usage errors (exit 2) for bad arguments."""

import errno
import os
import stat

import joblib
import numpy as np
import pytest

from sklipschitz import LipschitzRegressor
from sklipschitz.cli import _io, modelfile, predict
from sklipschitz.cli.compare import _report

from ._util import assert_one_line_error, read_csv, run, write_csv

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _leftovers(directory, keep):
    return sorted(set(os.listdir(directory)) - set(keep))


# ----------------------------------------------------------------------------
# atomic writes: a failed write leaves the old file as it was
# ----------------------------------------------------------------------------


def test_fit_out_failing_midway_keeps_the_old_model(capsys, diabetes_csv, tmp_path,
                                                    monkeypatch):
    path, _, _ = diabetes_csv
    model = tmp_path / "model.skm"
    assert run(capsys, "fit", path, "--target", "target", "--out", str(model))[0] == 0
    good = model.read_bytes()

    def full_disk(value, target, *args, **kwargs):
        target.write(b"PK\x03\x04 truncated zip")
        raise ENOSPC

    monkeypatch.setattr(modelfile, "dump", full_disk)
    code, _, err = run(capsys, "fit", path, "--target", "target", "--quantile", "0.5",
                       "--out", str(model))
    assert code == 1
    assert_one_line_error(err, str(model), "No space left on device")
    assert model.read_bytes() == good
    assert _leftovers(tmp_path, ["model.skm"]) == []


def test_predict_out_failing_midway_keeps_the_old_file(capsys, diabetes_csv, tmp_path,
                                                       monkeypatch):
    path, X, _ = diabetes_csv
    model, preds = tmp_path / "m.skm", tmp_path / "preds.csv"
    assert run(capsys, "fit", path, "--target", "target", "--out", str(model))[0] == 0
    preds.write_text("predicted_target\n1.0\n")
    old = preds.read_bytes()
    fmt, calls = predict._fmt, []

    def fmt_until_disk_full(v):
        calls.append(v)
        if len(calls) > 100:
            raise ENOSPC
        return fmt(v)

    monkeypatch.setattr(predict, "_fmt", fmt_until_disk_full)
    code, _, err = run(capsys, "predict", str(model), path, "--out", str(preds))
    assert code == 1 and len(calls) > 100  # the failure came midway through the rows
    assert_one_line_error(err, str(preds), "No space left on device")
    assert preds.read_bytes() == old
    assert _leftovers(tmp_path, ["m.skm", "preds.csv"]) == []

    monkeypatch.setattr(predict, "_fmt", fmt)
    assert run(capsys, "predict", str(model), path, "--out", str(preds))[0] == 0
    assert len(read_csv(preds)[1]) == len(X)


def test_compare_out_failing_midway_keeps_the_old_files(capsys, tmp_path, monkeypatch):
    out = tmp_path / "results"
    out.mkdir()
    (out / "compare.csv").write_text("old csv\n")
    (out / "compare.md").write_text("old report\n")

    def full_disk(records, stream):
        stream.write("task,dataset\n")
        raise ENOSPC

    monkeypatch.setattr(_report, "_write_csv_rows", full_disk)
    code, _, err = run(capsys, "compare", "--quick", "--tasks", "diabetes-linear",
                       "--no-progress", "--out", str(out))
    assert code == 1
    assert_one_line_error(err, str(out / "compare.csv"), "No space left on device")
    assert (out / "compare.csv").read_text() == "old csv\n"
    assert (out / "compare.md").read_text() == "old report\n"
    assert _leftovers(out, ["compare.csv", "compare.md"]) == []


def test_atomic_write_keeps_permissions_and_removes_the_temporary_file(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    _io.atomic_write(str(target), lambda f: f.write("new"))
    assert target.read_text() == "new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640

    def interrupted(f):
        f.write("partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _io.atomic_write(str(target), interrupted)
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["f.txt"]


# ----------------------------------------------------------------------------
# arguments are checked before any work; usage errors exit 2
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("tab", ["\\t", "tab"])
def test_delimiter_backslash_t_means_tab(capsys, tmp_path, tab):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 2))
    y = X @ [1.0, -2.0] + 0.5
    tsv = tmp_path / "d.tsv"
    lines = [f"{a!r}\t{b!r}\t{t!r}\n" for (a, b), t in zip(X.tolist(), y.tolist())]
    tsv.write_text("a\tb\ty\n" + "".join(lines))
    model = tmp_path / "m.skm"
    code, _, err = run(capsys, "fit", str(tsv), "--target", "y", "--delimiter", tab,
                       "--out", str(model))
    assert code == 0, err
    np.testing.assert_allclose(modelfile.load(model)["pipeline"].predict(X), y, atol=1e-6)
    code, out, err = run(capsys, "predict", str(model), str(tsv), "--delimiter", tab)
    assert code == 0, err
    assert len(out.strip().splitlines()) == 51


@pytest.mark.parametrize("command", ["fit", "predict"])
@pytest.mark.parametrize("value", ["", ";;", '"'])
def test_bad_delimiter_is_a_usage_error(capsys, tmp_path, command, value):
    argv = (["fit", "x.csv", "--target", "y", "--out", str(tmp_path / "m.skm")]
            if command == "fit" else ["predict", "m.skm", "x.csv"])
    code, _, err = run(capsys, *argv, "--delimiter", value)
    assert code == 2
    assert "--delimiter" in err and "Traceback" not in err and "TypeError" not in err


@pytest.mark.parametrize("param, fragment", [
    ("hidden_layer_sizes=(0,)", "hidden_layer_sizes must be a tuple of positive integers"),
    ("hidden_layer_sizes=(10, -1)", "hidden_layer_sizes must be a tuple of positive integers"),
    ("alpha=-1", "'alpha' parameter"),
    ("max_iter=0", "'max_iter' parameter"),
])
def test_invalid_parameter_is_a_usage_error_before_reading_data(capsys, tmp_path, param,
                                                                fragment):
    # the data file does not exist: the parameter is checked first
    code, _, err = run(capsys, "fit", str(tmp_path / "absent.csv"), "--target", "y",
                       "--model", "symnet-regressor", "--param", param,
                       "--out", str(tmp_path / "m.skm"))
    assert code == 2
    assert_one_line_error(err, fragment)


@pytest.mark.parametrize("argv, fragment", [
    (["--seed", "-1"], "--seed"),
    (["--seed", "1.5"], "--seed"),
    (["--folds", "1"], "--folds"),
])
def test_compare_bad_numbers_fail_at_parse_time(capsys, monkeypatch, argv, fragment):
    from sklipschitz.cli import compare

    started = []
    monkeypatch.setattr(compare, "run_suite", lambda *a, **k: started.append(a) or [])
    code, out, err = run(capsys, "compare", "--quick", *argv)
    assert code == 2 and not started
    assert fragment in err and out == ""


def test_missing_out_directory_is_reported_before_the_fit(capsys, diabetes_csv, tmp_path,
                                                          monkeypatch):
    path, _, _ = diabetes_csv

    def no_fit(self, *args, **kwargs):
        raise AssertionError("fit ran")

    monkeypatch.setattr(LipschitzRegressor, "fit", no_fit)
    out = tmp_path / "no" / "dir" / "m.skm"
    code, _, err = run(capsys, "fit", path, "--target", "target", "--out", str(out))
    assert code == 1
    assert_one_line_error(err, str(out), "does not exist")
    code, _, err = run(capsys, "predict", str(tmp_path / "absent.skm"), path,
                       "--out", str(tmp_path / "no" / "p.csv"))
    assert code == 1
    assert_one_line_error(err, "does not exist")


@pytest.mark.parametrize("bundle, fragment", [
    ({"format": "sklipschitz-csv-model", "kind": "regressor", "target": "y"},
     "no 'pipeline' entry"),
    ({"format": "sklipschitz-csv-model", "pipeline": LipschitzRegressor(), "kind": "regressor",
      "target": "y", "categorical": []}, "no 'features' entry"),
    ({"format": "sklipschitz-csv-model", "pipeline": LipschitzRegressor(), "kind": "regressor",
      "target": "y", "features": "x0", "categorical": []}, "'features' is a str"),
    ({"format": "sklipschitz-csv-model", "pipeline": LipschitzRegressor(), "kind": "other",
      "target": "y", "features": ["x0"], "categorical": []}, "'kind' is 'other'"),
])
@pytest.mark.parametrize("pickled", [False, True])
def test_malformed_model_bundle_is_a_clear_error(capsys, diabetes_csv, tmp_path, bundle,
                                                 fragment, pickled):
    path, _, _ = diabetes_csv
    if pickled:
        joblib.dump(bundle, tmp_path / "bad.joblib")
    else:
        modelfile.dump(bundle, tmp_path / "bad.joblib")
    code, _, err = run(capsys, "predict", str(tmp_path / "bad.joblib"), path,
                       *(["--trust-pickle"] if pickled else []))
    assert code == 1
    assert_one_line_error(err, "malformed model file", fragment)


# ----------------------------------------------------------------------------
# warnings and messages
# ----------------------------------------------------------------------------


def test_one_row_fit_succeeds_without_an_undefined_r2(capsys, tmp_path):
    # R^2 of one row is undefined: the summary gives the root mean squared
    # error instead of passing on scikit-learn's UndefinedMetricWarning
    path = write_csv(tmp_path / "one.csv", ["a", "y"], [["1.0", "2.0"]])
    code, out, err = run(capsys, "fit", path, "--target", "y",
                         "--out", str(tmp_path / "m.skm"))
    assert code == 0
    assert "saved to" in out and "root mean squared error 0" in out
    assert err == ""


def test_every_warning_of_a_fit_is_one_line(capsys, diabetes_csv, tmp_path):
    path, _, _ = diabetes_csv
    code, _, err = run(capsys, "fit", path, "--target", "target", "--model",
                       "symnet-regressor", "--param", "max_iter=2",
                       "--param", "hidden_layer_sizes=(5,)", "--param", "random_state=0",
                       "--out", str(tmp_path / "m.skm"))
    assert code == 0
    lines = err.strip().splitlines()
    assert lines and all(line.startswith("warning: ") for line in lines), err


def test_decimal_comma_is_named(capsys, tmp_path):
    path = tmp_path / "dc.csv"
    path.write_text("a;b;y\n1,5;2;3\n2,5;3;4,5\n3,5;1;2\n")
    model = str(tmp_path / "m.skm")
    code, _, err = run(capsys, "fit", str(path), "--target", "y", "--delimiter", ";",
                       "--out", model)
    assert code == 1
    assert_one_line_error(err, "column 'a'", "'1,5'", "decimal comma")
    assert "--one-hot" not in err
    code, _, err = run(capsys, "fit", str(path), "--target", "y", "--delimiter", ";",
                       "--drop", "a", "--out", model)
    assert code == 1
    assert_one_line_error(err, "column 'y'", "'4,5'", "decimal comma")
    # a text column is still told about --one-hot
    text = write_csv(tmp_path / "t.csv", ["a", "y"], [["red", "1"], ["blue", "2"]])
    code, _, err = run(capsys, "fit", text, "--target", "y", "--out", model)
    assert code == 1
    assert_one_line_error(err, "--one-hot")
    assert "decimal comma" not in err
