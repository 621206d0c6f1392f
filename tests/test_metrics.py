"""Tests of sklipschitz.metrics (resource reports)."""

import builtins
import math
import time

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor

from sklipschitz import LipschitzRegressor
from sklipschitz import metrics
from sklipschitz.metrics import (
    DEFAULT_CARBON_INTENSITY,
    DEFAULT_CPU_WATTS_PER_CORE,
    ResourceReport,
    resource_report,
    track_resources,
)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 10))
    y = X @ rng.standard_normal(10) + 0.1 * rng.standard_normal(2000)
    return X, y


@pytest.fixture
def no_codecarbon(monkeypatch):
    """Make ``import codecarbon`` fail, as when the extra is not installed."""
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "codecarbon" or name.startswith("codecarbon."):
            raise ImportError("No module named 'codecarbon' (simulated)")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def _busy(seconds):
    """Burn CPU for about ``seconds`` of process time."""
    t0 = time.process_time()
    x = 0.0
    while time.process_time() - t0 < seconds:
        x += sum(i * 0.5 for i in range(1000))
    return x


def test_report_fields_positive_and_finite(data):
    X, y = data
    est = LipschitzRegressor(loss="absolute_error", batch_size=32, max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):  # max_iter=5 is hit on purpose
        report = resource_report(est, X, y, energy_method="estimate")
    assert isinstance(report, ResourceReport)
    d = report.as_dict()
    for name in ("wall_seconds", "cpu_seconds", "peak_memory_mb", "energy_kwh", "co2_kg",
                 "carbon_intensity", "cpu_watts_per_core"):
        assert math.isfinite(d[name]) and d[name] > 0, name
    assert report.peak_rss_mb is None or (math.isfinite(report.peak_rss_mb)
                                          and report.peak_rss_mb >= 0)
    assert report.n_iter == est.n_iter_ == 5
    assert report.method == "estimate"
    assert set(d) == {f.name for f in ResourceReport.__dataclass_fields__.values()}
    text = str(report)
    for word in ("wall time", "CPU time", "peak memory", "epochs", "CO2", "estimate"):
        assert word in text
    assert report.co2_g == pytest.approx(report.co2_kg * 1e3)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fallback_without_codecarbon(no_codecarbon, data):
    assert not metrics.codecarbon_available()
    X, y = data
    report = resource_report(LipschitzRegressor(learning_rate="local", max_iter=20), X, y)
    assert report.method == "estimate"  # 'auto' falls back
    assert report.energy_kwh > 0 and report.co2_kg > 0
    assert report.country_iso_code is None
    with pytest.raises(ImportError, match="sklipschitz\\[carbon\\]"):
        with track_resources(energy_method="codecarbon"):
            pass


def test_fallback_formula_exact():
    watts, intensity = 7.5, 123.0
    with track_resources(energy_method="estimate", cpu_watts_per_core=watts,
                         carbon_intensity=intensity) as t:
        _busy(0.2)
    r = t.report
    assert r.cpu_seconds >= 0.2
    assert r.energy_kwh == pytest.approx(r.cpu_seconds * watts / 3.6e6, rel=1e-12)
    assert r.co2_kg == pytest.approx(r.energy_kwh * intensity / 1e3, rel=1e-12)
    assert r.cpu_watts_per_core == watts and r.carbon_intensity == intensity


def test_default_constants_used():
    with track_resources(energy_method="estimate") as t:
        _busy(0.05)
    r = t.report
    assert r.cpu_watts_per_core == DEFAULT_CPU_WATTS_PER_CORE
    assert r.carbon_intensity == DEFAULT_CARBON_INTENSITY
    assert r.co2_kg == pytest.approx(
        r.cpu_seconds * DEFAULT_CPU_WATTS_PER_CORE / 3.6e6 * DEFAULT_CARBON_INTENSITY / 1e3,
        rel=1e-12,
    )


def test_cpu_time_counts_work_not_sleep():
    with track_resources(energy_method="estimate", trace_memory=False) as t:
        time.sleep(0.3)
    assert t.report.wall_seconds >= 0.3
    assert t.report.cpu_seconds < 0.15
    assert t.report.peak_memory_mb is None


def test_peak_memory_of_50mb_array():
    with track_resources(energy_method="estimate") as t:
        a = np.ones(50_000_000 // 8)  # 50 MB, pages written
        del a
    r = t.report
    assert r.peak_memory_mb >= 40
    if r.rss_method == "hiwater":
        assert r.peak_rss_mb >= 40


def test_memory_freed_before_block_not_counted():
    a = np.ones(30_000_000 // 8)
    del a
    with track_resources(energy_method="estimate") as t:
        b = np.ones(1000)
    del b
    assert t.report.peak_memory_mb < 5


def test_nested_blocks_keep_outer_peak():
    with track_resources(energy_method="estimate") as outer:
        a = np.ones(40_000_000 // 8)
        del a
        with track_resources(energy_method="estimate") as inner:
            b = np.ones(1000)
        del b
    assert inner.report.peak_memory_mb < 5
    assert outer.report.peak_memory_mb >= 35
    if outer.report.rss_method == "hiwater":
        assert outer.report.peak_rss_mb >= 35


def test_report_set_when_block_raises():
    with pytest.raises(ZeroDivisionError):
        with track_resources(energy_method="estimate") as t:
            1 / 0
    assert t.report is not None and t.report.wall_seconds >= 0


def test_n_iter_of_other_estimators(data):
    X, y = data
    r = resource_report(SGDRegressor(max_iter=3, tol=None, random_state=0), X, y,
                        energy_method="estimate")
    assert r.n_iter == 3

    class NoIter:
        def fit(self, X, y):
            return self

    assert resource_report(NoIter(), X, y, energy_method="estimate").n_iter is None


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_params_passed(data):
    X, y = data
    sw = np.ones(len(y))
    sw[:1000] = 0.0
    est = LipschitzRegressor(learning_rate="local", max_iter=30)
    resource_report(est, X, y, energy_method="estimate", sample_weight=sw)
    ref = LipschitzRegressor(learning_rate="local", max_iter=30).fit(X[1000:], y[1000:])
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"energy_method": "magic"}, "energy_method"),
        ({"cpu_watts_per_core": 0}, "cpu_watts_per_core"),
        ({"carbon_intensity": float("nan")}, "carbon_intensity"),
        ({"carbon_intensity": -1.0}, "carbon_intensity"),
        ({"country_iso_code": "FR"}, "country_iso_code"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        with track_resources(**kwargs):
            pass


def test_no_fit_method():
    with pytest.raises(TypeError, match="no fit method"):
        resource_report(object(), [[0.0]], [0.0])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_codecarbon_path(data):
    pytest.importorskip("codecarbon")
    X, y = data
    report = resource_report(LipschitzRegressor(learning_rate="local", max_iter=20), X, y,
                             energy_method="codecarbon", country_iso_code="FRA")
    assert report.method == "codecarbon"
    assert report.country_iso_code == "FRA"
    assert report.energy_kwh > 0 and math.isfinite(report.energy_kwh)
    assert report.co2_kg == pytest.approx(report.energy_kwh * report.carbon_intensity / 1e3)
    # France's grid (mostly nuclear) is far below the world average
    assert 10 < report.carbon_intensity < 200
    assert report.cpu_watts_per_core is None
    assert "codecarbon" in str(report)
