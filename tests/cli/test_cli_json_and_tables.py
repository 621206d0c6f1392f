"""Machine-readable output (--json, -q, -v) and the table reader (compression,
encodings, delimiter detection, --na-values)."""

import bz2
import csv
import gzip
import io
import json
import lzma
import sys
import zipfile

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressor
from sklipschitz.cli import modelfile

from ._util import assert_one_line_error, run, write_csv

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _one_json_line(text):
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return json.loads(lines[0])


# ----------------------------------------------------------------------------
# --json, -q, -v
# ----------------------------------------------------------------------------


def test_fit_json_is_one_object_with_the_summary(capsys, diabetes_csv, tmp_path):
    path, X, y = diabetes_csv
    model = tmp_path / "m.skm"
    code, out, err = run(capsys, "fit", path, "--target", "target", "--json",
                         "--out", str(model))
    assert code == 0, err
    assert err == ""
    summary = _one_json_line(out)
    assert {"command", "estimator", "model", "kind", "target", "n_rows", "n_features",
            "features", "categorical", "n_iter", "training_score", "lipschitz_constant",
            "params", "out", "format", "sklipschitz_version", "warnings"} <= set(summary)
    assert summary["command"] == "fit" and summary["estimator"] == "LipschitzRegressor"
    assert summary["n_rows"] == 442 and summary["n_features"] == 10
    assert summary["features"] == [f"x{j}" for j in range(10)]
    assert summary["out"] == str(model) and summary["warnings"] == []
    assert summary["data"] == {"source": path, "delimiter": ",", "compression": None,
                               "encoding": "utf-8"}
    reference = make_pipeline(StandardScaler(), LipschitzRegressor()).fit(X, y)
    assert summary["training_score"]["name"] == "r2"
    np.testing.assert_allclose(summary["training_score"]["value"], reference.score(X, y),
                               rtol=1e-9)
    np.testing.assert_allclose(summary["lipschitz_constant"],
                               reference[-1].lipschitz_constant_, rtol=1e-12)
    assert summary["params"]["loss"] == "squared_error"


def test_json_lists_warnings_and_qq_silences_stderr(capsys, tmp_path):
    path = write_csv(tmp_path / "three.csv", ["a", "y"],
                     [["1.0", "2.0"], ["2.0", "3.5"], ["3.0", "3.0"]])
    code, out, err = run(capsys, "fit", path, "--target", "y", "--json", "-qq",
                         "--param", "solver=gd", "--param", "max_iter=1",
                         "--out", str(tmp_path / "m.skm"))
    assert code == 0
    assert err == ""
    warnings = _one_json_line(out)["warnings"]
    assert any("Maximum number of iterations" in w for w in warnings), warnings


def test_quiet_fit_prints_nothing_and_still_saves(capsys, diabetes_csv, tmp_path):
    path, _, _ = diabetes_csv
    code, out, err = run(capsys, "fit", path, "--target", "target", "-q",
                         "--out", str(tmp_path / "m.skm"))
    assert code == 0 and out == "" and err == ""
    assert (tmp_path / "m.skm").exists()


@pytest.mark.parametrize("verbosity", [["-v"], ["--param", "verbose=1"]])
def test_epoch_lines_go_to_stderr(capsys, diabetes_csv, tmp_path, verbosity):
    path, _, _ = diabetes_csv
    code, out, err = run(capsys, "fit", path, "--target", "target", "--model",
                         "symnet-regressor", "--param", "max_iter=3",
                         "--param", "hidden_layer_sizes=(4,)", "--param", "random_state=0",
                         *verbosity, "--json", "--out", str(tmp_path / "m.skm"))
    assert code == 0, err
    assert _one_json_line(out)["n_iter"] == 3
    assert sum(line.startswith("Epoch") for line in err.splitlines()) == 3, err


def test_predict_json_summary_on_stderr_csv_on_stdout(capsys, diabetes_csv, tmp_path):
    path, X, y = diabetes_csv
    model = str(tmp_path / "m.skm")
    assert run(capsys, "fit", path, "--target", "target", "-q", "--out", model)[0] == 0
    code, out, err = run(capsys, "predict", model, path, "--json")
    assert code == 0, err
    rows = list(csv.reader(out.strip().splitlines()))
    assert rows[0] == ["predicted_target"] and len(rows) == 443
    expected = make_pipeline(StandardScaler(), LipschitzRegressor()).fit(X, y).predict(X)
    np.testing.assert_allclose([float(r[0]) for r in rows[1:]], expected, rtol=1e-9)
    summary = _one_json_line(err)
    assert summary["command"] == "predict" and summary["n_rows"] == 442
    assert summary["columns"] == ["predicted_target"] and summary["out"] is None
    assert summary["estimator"] == "LipschitzRegressor" and summary["warnings"] == []


def test_compare_json_is_one_object_with_the_table(capsys):
    code, out, err = run(capsys, "compare", "--quick", "--tasks", "diabetes-linear", "--json",
                         "-q")
    assert code == 0, err
    assert err == ""  # -q: no progress bar
    result = _one_json_line(out)
    assert result["command"] == "compare" and result["failures"] == []
    assert result["settings"] == {"quick": True, "seed": 0, "folds": 3, "resources": False}
    (task,) = result["tasks"]
    assert task["task"] == "diabetes-linear" and task["n_samples"] == 442
    assert task["ours_fits"] == 4 and task["baseline_fits"] == 3 * 5 + 1
    assert -1 < task["ours_score"] <= 1 and -1 < task["baseline_score"] <= 1
    np.testing.assert_allclose(task["score_diff"], task["ours_score"] - task["baseline_score"])
    assert result["summary"] and result["summary"][0].startswith("score as good")


def test_compare_json_with_out_dir_and_a_failing_task(capsys, tmp_path, monkeypatch):
    from sklipschitz.cli.compare import _run

    real = _run.run_task

    def run_task(task, *args, **kwargs):
        if task.name == "iris-linear":
            raise ValueError("broken on purpose")
        return real(task, *args, **kwargs)

    monkeypatch.setattr(_run, "run_task", run_task)
    out_dir = tmp_path / "results"
    code, out, err = run(capsys, "compare", "--quick", "--tasks", "diabetes-linear",
                         "iris-linear", "--json", "--no-progress", "--out", str(out_dir))
    assert code == 1
    result = _one_json_line(out)
    assert [t["task"] for t in result["tasks"]] == ["diabetes-linear"]
    assert result["failures"] == [{"task": "iris-linear",
                                   "error": "ValueError: broken on purpose"}]
    assert result["outputs"]["csv"] == str(out_dir / "compare.csv")
    assert (out_dir / "compare.csv").exists()
    # stderr: the failure and the note on the files written, never the data
    assert "task iris-linear failed" in err and f"wrote {out_dir / 'compare.csv'}" in err


def test_compare_list_json(capsys):
    code, out, _ = run(capsys, "compare", "--list", "--json")
    assert code == 0
    tasks = _one_json_line(out)["tasks"]
    assert "diabetes-linear" in {t["name"] for t in tasks}
    assert all({"name", "dataset", "ours", "baseline", "metric", "quick"} <= set(t)
               for t in tasks)


def test_json_has_no_nan_or_infinity():
    from sklipschitz.cli._common import jsonable

    data = {"a": float("nan"), "b": [np.float64(np.inf), np.int64(3)], "c": np.arange(2),
            "d": (1.5, None)}
    text = json.dumps(jsonable(data), allow_nan=False)
    assert json.loads(text) == {"a": None, "b": [None, 3], "c": [0, 1], "d": [1.5, None]}


# ----------------------------------------------------------------------------
# reading tables
# ----------------------------------------------------------------------------


def _csv_bytes(header, rows, delimiter=","):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _zip(data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data.csv", data)
    return buf.getvalue()


@pytest.mark.parametrize("suffix, compress", [
    (".csv.gz", gzip.compress), (".csv.bz2", bz2.compress), (".csv.xz", lzma.compress),
    (".zip", _zip)])
def test_compressed_table_fits_like_the_plain_one(capsys, diabetes_csv, tmp_path, suffix,
                                                  compress):
    path, X, y = diabetes_csv
    packed = tmp_path / f"diabetes{suffix}"
    with open(path, "rb") as f:
        packed.write_bytes(compress(f.read()))
    model = tmp_path / "m.skm"
    code, out, err = run(capsys, "fit", str(packed), "--target", "target", "--json",
                         "--out", str(model))
    assert code == 0, err
    assert _one_json_line(out)["data"]["compression"] == suffix.split(".")[-1].replace(
        "gz", "gzip").replace("bz2", "bzip2")
    expected = make_pipeline(StandardScaler(), LipschitzRegressor()).fit(X, y).predict(X)
    np.testing.assert_allclose(modelfile.load(model)["pipeline"].predict(X), expected,
                               rtol=1e-9)
    code, out, err = run(capsys, "predict", str(model), str(packed))
    assert code == 0, err
    np.testing.assert_allclose([float(v) for v in out.split()[1:]], expected, rtol=1e-9)


def test_gzip_on_stdin(capsys, monkeypatch, tmp_path):
    data = _csv_bytes(["a", "y"], [[str(i), str(2 * i + 1)] for i in range(20)])
    stdin = io.TextIOWrapper(io.BytesIO(gzip.compress(data.encode())))
    monkeypatch.setattr(sys, "stdin", stdin)
    model = tmp_path / "m.skm"
    code, _, err = run(capsys, "fit", "-", "--target", "y", "--out", str(model))
    assert code == 0, err
    np.testing.assert_allclose(modelfile.load(model)["pipeline"].predict([[100.0]]), [201.0],
                               rtol=1e-6)


def test_damaged_gzip_and_zip_archives_are_named(capsys, tmp_path):
    bad = tmp_path / "bad.csv.gz"
    data = _csv_bytes(["a", "y"], [[repr(v), "1"] for v in np.linspace(0, 1, 500)]).encode()
    packed = gzip.compress(data)
    bad.write_bytes(packed[: len(packed) // 2])
    code, _, err = run(capsys, "fit", str(bad), "--target", "y", "--out", str(tmp_path / "m"))
    assert code == 1
    assert_one_line_error(err, "damaged or truncated gzip file")
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.csv", "a,y\n1,2\n")
        z.writestr("b.csv", "a,y\n1,2\n")
    code, _, err = run(capsys, "fit", str(two), "--target", "y", "--out", str(tmp_path / "m"))
    assert code == 1
    assert_one_line_error(err, "exactly one file", "a.csv, b.csv")


def test_encodings(capsys, tmp_path):
    rows = [["café" if i % 2 else "thé", str(i), str(3 * i)] for i in range(20)]
    text = _csv_bytes(["drink", "a", "y"], rows)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(text.encode("latin-1"))
    model = tmp_path / "m.skm"
    code, _, err = run(capsys, "fit", str(latin), "--target", "y", "--one-hot",
                       "--out", str(model))
    assert code == 1
    assert_one_line_error(err, "not a utf-8 text file", "byte 0xe9", "--encoding latin-1")
    code, _, err = run(capsys, "fit", str(latin), "--target", "y", "--one-hot",
                       "--encoding", "latin-1", "--out", str(model))
    assert code == 0, err
    categories = modelfile.load(model)["pipeline"][0].named_transformers_["onehot"]
    assert list(categories.categories_[0]) == ["café", "thé"]
    # UTF-16 is recognised by its byte-order mark
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(text.encode("utf-16"))
    code, out, err = run(capsys, "fit", str(utf16), "--target", "y", "--one-hot", "--json",
                         "--out", str(model))
    assert code == 0, err
    assert _one_json_line(out)["data"]["encoding"] == "utf-16"
    code, _, err = run(capsys, "fit", str(latin), "--target", "y", "--encoding", "klingon",
                       "--out", str(model))
    assert code == 2 and "unknown encoding 'klingon'" in err


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_is_detected(capsys, tmp_path, delimiter):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 2))
    y = X @ [2.0, -1.0] + 3.0
    # quoted cells holding the other candidates must not fool the detection
    rows = [[repr(a), repr(b), "x,y;z|w", repr(t)] for (a, b), t in zip(X.tolist(), y.tolist())]
    path = tmp_path / "d.txt"
    path.write_text(_csv_bytes(["a", "b", "note", "y"], rows, delimiter))
    model = tmp_path / "m.skm"
    code, out, err = run(capsys, "fit", str(path), "--target", "y", "--drop", "note",
                         "--json", "--out", str(model))
    assert code == 0, err
    assert _one_json_line(out)["data"]["delimiter"] == delimiter
    np.testing.assert_allclose(modelfile.load(model)["pipeline"].predict(X), y, atol=1e-6)


def test_sniffer_prefers_consistent_columns():
    from sklipschitz.cli._io import sniff_delimiter

    assert sniff_delimiter("a;b;y\n1,5;2;3\n2,5;3;4,5\n") == ";"
    assert sniff_delimiter("a,b\n1,2\n3,4\n") == ","
    assert sniff_delimiter("single\n1\n2\n") == ","
    assert sniff_delimiter("a\tb\n1\t2\n") == "\t"


def test_na_values_choose_the_missing_tokens(capsys, tmp_path):
    rows = [[str(i), ["none", "some", "many"][i % 3], str(2 * i)] for i in range(30)]
    path = write_csv(tmp_path / "cat.csv", ["a", "amount", "y"], rows)
    model = tmp_path / "m.skm"
    # by default the category "none" is a missing value
    code, _, err = run(capsys, "fit", path, "--target", "y", "--one-hot", "--out", str(model))
    assert code == 1
    assert_one_line_error(err, "column 'amount'", "10 missing", "'none'", "--na-values")
    code, _, err = run(capsys, "fit", path, "--target", "y", "--one-hot", "--na-values", "NA,?",
                       "--out", str(model))
    assert code == 0, err
    encoder = modelfile.load(model)["pipeline"][0].named_transformers_["onehot"]
    assert sorted(encoder.categories_[0]) == ["many", "none", "some"]
    # predict reads with the tokens of the fit, unless given others
    assert modelfile.load(model)["na_values"] == ["", "?", "na"]
    code, out, err = run(capsys, "predict", str(model), path)
    assert code == 0, err
    assert len(out.split()) == 31
    code, _, err = run(capsys, "predict", str(model), path, "--na-values", "none")
    assert code == 1
    assert_one_line_error(err, "column 'amount'", "missing", "'none'")
    # a chosen token is missing, in any case; an empty cell always is
    code, _, err = run(capsys, "fit", path, "--target", "y", "--one-hot", "--na-values", "SOME",
                       "--out", str(model))
    assert code == 1
    assert_one_line_error(err, "column 'amount'", "missing", "'some'")
    blank = write_csv(tmp_path / "blank.csv", ["a", "y"], [["1", "2"], ["", "3"], ["4", "5"]])
    code, _, err = run(capsys, "fit", blank, "--target", "y", "--na-values", "",
                       "--out", str(model))
    assert code == 1
    assert_one_line_error(err, "column 'a'", "data row 2, line 3")


def test_error_lines_count_blank_lines(capsys, tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("a,y\n1,2\n\n\n3,?\n")
    code, _, err = run(capsys, "fit", str(path), "--target", "y", "--out", str(tmp_path / "m"))
    assert code == 1
    assert_one_line_error(err, "column 'y'", "data row 2, line 5")
