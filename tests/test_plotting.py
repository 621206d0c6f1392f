"""Tests of sklipschitz.plotting.LossCurveDisplay."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressor
from sklipschitz.plotting import LossCurveDisplay

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(scope="module")
def data():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y / y.std()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return LipschitzRegressor(batch_size=64, max_iter=30, random_state=0).fit(X, y)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_from_estimator_plots_the_fitted_histories(fitted):
    disp = LossCurveDisplay.from_estimator(fitted)
    assert len(fitted.loss_curve_) == fitted.n_iter_ > 1
    np.testing.assert_allclose(disp.line_.get_ydata(), fitted.loss_curve_)
    np.testing.assert_array_equal(disp.line_.get_xdata(), np.arange(1, fitted.n_iter_ + 1))
    np.testing.assert_allclose(disp.lr_line_.get_ydata(), fitted.learning_rate_history_)
    assert disp.ax_.figure is disp.figure_
    assert disp.ax_lr_ is not None and disp.ax_lr_ is not disp.ax_
    assert disp.ax_.get_xlabel() == "epoch"
    assert disp.ax_lr_.get_ylabel() == "learning rate"
    assert disp.estimator_name == "LipschitzRegressor"
    assert "LipschitzRegressor" in disp.line_.get_label()


def test_init_stores_data_and_plot_uses_given_axes(fitted):
    disp = LossCurveDisplay(fitted.loss_curve_, fitted.learning_rate_history_,
                            estimator_name="mine")
    assert not hasattr(disp, "ax_")
    fig, ax = plt.subplots()
    out = disp.plot(ax=ax, name="custom", color="tab:green", loss_scale="log")
    assert out is disp
    assert disp.ax_ is ax and disp.figure_ is fig
    assert disp.line_.get_label() == "training loss (custom)"
    assert mpl.colors.same_color(disp.line_.get_color(), "tab:green")
    assert ax.get_yscale() == "log"


def test_pipeline_and_options(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), LipschitzRegressor(batch_size=100, max_iter=5,
                                                              random_state=0)).fit(X, y)
    disp = LossCurveDisplay.from_estimator(pipe, show_learning_rate=False)
    assert disp.lr_line_ is None and disp.ax_lr_ is None
    np.testing.assert_allclose(disp.line_.get_ydata(), pipe[-1].loss_curve_)


def test_estimator_without_learning_rate_history(data):
    from sklearn.neural_network import MLPRegressor

    X, y = data
    mlp = MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        mlp.fit(X, y)
    disp = LossCurveDisplay.from_estimator(mlp)
    assert disp.lr_line_ is None
    np.testing.assert_allclose(disp.line_.get_ydata(), mlp.loss_curve_)


def test_learning_rate_axis_scale():
    flat = LossCurveDisplay([3.0, 2.0, 1.5], [0.5, 0.5, 0.4]).plot()
    assert flat.ax_lr_.get_yscale() == "linear"
    decaying = LossCurveDisplay([3.0, 2.0, 1.5], [1.0, 0.1, 0.01]).plot()
    assert decaying.ax_lr_.get_yscale() == "log"


def test_single_point_curve_is_visible():
    disp = LossCurveDisplay([3.0], [1.0]).plot()
    assert disp.line_.get_marker() == "o"
    assert disp.ax_.get_xlim() == (0.5, 1.5)


def test_errors(data):
    X, y = data
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(LipschitzRegressor())
    with pytest.raises(ValueError, match="no loss_curve_"):
        LossCurveDisplay.from_estimator(LinearRegression().fit(X, y))
    with pytest.raises(ValueError, match="empty"):
        LossCurveDisplay([]).plot()
    with pytest.raises(ValueError, match="loss_scale"):
        LossCurveDisplay([1.0, 0.5]).plot(loss_scale="symlog")


def test_matplotlib_is_imported_lazily():
    code = ("import sys, sklipschitz.plotting; "
            "sys.exit(1 if 'matplotlib' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
