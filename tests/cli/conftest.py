"""Data files shared by the command-line tests."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

from ._util import num, write_csv


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
