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



def _fresh_pages(mb):
    """Write ``mb`` MB of freshly mapped pages (not served from malloc's
    already-resident free lists, so resident memory must grow)."""
    import mmap

    m = mmap.mmap(-1, mb * 1024 * 1024)
    np.frombuffer(m, dtype=np.uint8)[::4096] = 1
    return m


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
    with pytest.warns(ConvergenceWarning, match=r"Maximum number of iterations \(5\)"):
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
        _fresh_pages(50).close()
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
        _fresh_pages(40).close()
        with track_resources(energy_method="estimate") as inner:
            b = np.ones(1000)
        del b
    assert inner.report.peak_memory_mb < 5
    assert outer.report.peak_memory_mb >= 35
    if outer.report.rss_method == "hiwater":
        assert outer.report.peak_rss_mb >= 35


def test_report_set_when_block_raises():
    with pytest.raises(ZeroDivisionError, match="division by zero"):
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


class _Allocating:
    """Allocates (and frees) ``mb`` MB in fit; counts fits per instance."""

    def __init__(self, mb=50):
        self.mb = mb
        self.n_fits = 0

    def get_params(self, deep=True):
        return {"mb": self.mb}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X, y=None):
        a = np.ones(int(self.mb * 1e6) // 8)
        _fresh_pages(self.mb).close()
        self.n_fits += 1
        self.n_iter_ = 1 + int(a[0])
        return self


def test_separate_memory_pass():
    est = _Allocating(50)
    r = resource_report(est, np.zeros((3, 1)), energy_method="estimate")  # 'separate'
    assert est.n_fits == 1  # the memory pass fitted a clone
    assert r.peak_memory_mb >= 40
    if r.rss_method == "hiwater":
        assert r.peak_rss_mb >= 40
    assert r.n_iter == 2
    untraced = resource_report(_Allocating(50), np.zeros((3, 1)), energy_method="estimate",
                               trace_memory=False)
    assert untraced.peak_memory_mb is None
    same = resource_report(_Allocating(50), np.zeros((3, 1)), energy_method="estimate",
                           trace_memory=True)
    assert same.peak_memory_mb >= 40
    with pytest.raises(ValueError, match="trace_memory"):
        resource_report(_Allocating(1), np.zeros((3, 1)), trace_memory="twice")


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


# ----------------------------------------------------------------------------
# The published log-cosh constant (sklipschitz._engine.lipschitz.paper_log_cosh_lipschitz),
# tested here because it serves the same "what does a fit cost" comparisons.
# ----------------------------------------------------------------------------

from sklipschitz._engine.lipschitz import (  # noqa: E402
    paper_frobenius_factor,
    paper_log_cosh_lipschitz,
    paper_weight_bound,
)


def _direct_log_cosh_constant(X, y, fit_intercept, batch_size, g0=0.0):
    """(1/m) |tanh(g(0) - ||y_b||)| ||[1, X_b]||_F, max over batches, by hand."""
    n = X.shape[0]
    A = np.column_stack([np.ones(n), X]) if fit_intercept else X
    m = n if batch_size is None else min(batch_size, n)
    values = []
    for start in range(0, n, m):
        rows = slice(start, start + m)
        arg = g0 - np.sqrt(np.sum(y[rows] ** 2))
        values.append(abs(np.tanh(arg)) * np.sqrt(np.sum(A[rows] ** 2)) / m)
    return max(values)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("batch_size", [None, 7, 32])
def test_paper_log_cosh_matches_direct_computation(fit_intercept, batch_size):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((100, 4)) * [1.0, 2.0, 0.5, 3.0]
    y = 0.05 * rng.standard_normal(100)  # small targets: tanh well below 1
    got = paper_log_cosh_lipschitz(X, y, fit_intercept=fit_intercept, batch_size=batch_size)
    want = _direct_log_cosh_constant(X, y, fit_intercept, batch_size)
    assert got == pytest.approx(want, rel=1e-12)
    # |tanh| < 1: never above the published K_z / m of absolute error / log-cosh
    frob = paper_frobenius_factor(X, fit_intercept=fit_intercept, batch_size=batch_size)
    assert got < frob


def test_paper_log_cosh_negative_argument_uses_absolute_value():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((50, 3))
    y = 0.1 * rng.standard_normal(50)
    arg = 0.0 - np.linalg.norm(y)  # g(0) - ||y|| for a linear model
    assert arg < 0 and np.tanh(arg) < 0
    L = paper_log_cosh_lipschitz(X, y, fit_intercept=True)
    A = np.column_stack([np.ones(50), X])
    assert L > 0
    assert L == pytest.approx(np.tanh(np.linalg.norm(y)) * np.linalg.norm(A) / 50, rel=1e-12)
    # a positive argument (output activation g(0) = 2 above ||y||) gives the same form
    g0 = np.linalg.norm(y) + 0.3
    L_pos = paper_log_cosh_lipschitz(X, y, fit_intercept=True, output_at_zero=g0)
    assert L_pos == pytest.approx(np.tanh(0.3) * np.linalg.norm(A) / 50, rel=1e-12)


def test_paper_log_cosh_large_targets_equal_frobenius_rule():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((200, 5))
    y = 0.4 * rng.standard_normal(200)  # ||y|| ~ 5.7
    L = paper_log_cosh_lipschitz(X, y, fit_intercept=True)
    gap = 1.0 - L / paper_frobenius_factor(X, fit_intercept=True)
    # 1 - tanh(t) = 2 / (exp(2t) + 1) < 2 exp(-2t)
    assert 0 < gap < 2 * np.exp(-2 * np.linalg.norm(y))
    assert gap == pytest.approx(1 - np.tanh(np.linalg.norm(y)), rel=1e-3)


def test_paper_log_cosh_multi_output_alpha_and_errors():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((40, 3))
    Y = np.column_stack([0.01 * rng.standard_normal(40), 0.2 * rng.standard_normal(40)])
    L = paper_log_cosh_lipschitz(X, Y, fit_intercept=False)
    big = max(_direct_log_cosh_constant(X, Y[:, k], False, None) for k in range(2))
    assert L == pytest.approx(big, rel=1e-12)
    L_alpha = paper_log_cosh_lipschitz(X, Y, fit_intercept=False, alpha=0.5)
    assert L_alpha == pytest.approx(L + 0.5 * paper_weight_bound(X, False), rel=1e-12)
    with pytest.raises(ValueError, match="zero"):
        paper_log_cosh_lipschitz(X, np.zeros(40), fit_intercept=True)
    with pytest.raises(ValueError, match="rows"):
        paper_log_cosh_lipschitz(X, np.ones(39), fit_intercept=True)


# ----------------------------------------------------------------------------
# The codecarbon path with a stand-in tracker (runs without the [carbon] extra)
# ----------------------------------------------------------------------------


class _FakeData:
    def __init__(self, energy):
        self.energy_consumed = energy


def _fake_codecarbon(monkeypatch, *, energy=2e-6, emissions=5e-7, modern=True,
                     fail=None, record=None):
    """Install a module ``codecarbon`` whose ``OfflineEmissionsTracker``
    returns the given measurement; ``record`` collects the keyword arguments."""
    import sys
    import types

    record = {} if record is None else record

    class Tracker:
        def _init(self, kwargs):
            record.update(kwargs)
            record["instances"] = record.get("instances", 0) + 1
            if fail == "init":
                raise OSError("no hardware probe here")
            self.final_emissions_data = None

        if modern:
            def __init__(self, log_level="info", tracking_mode="machine", output_methods=None,
                         country_iso_code=None):
                self._init(dict(log_level=log_level, tracking_mode=tracking_mode,
                                output_methods=output_methods, country_iso_code=country_iso_code))
        else:
            def __init__(self, log_level="info", tracking_mode="machine", save_to_file=True,
                         country_iso_code=None):
                self._init(dict(log_level=log_level, tracking_mode=tracking_mode,
                                save_to_file=save_to_file, country_iso_code=country_iso_code))

        def start(self):
            if fail == "start":
                raise RuntimeError("cannot start")
            record["started"] = True

        def stop(self):
            if fail == "none":
                return None
            self.final_emissions_data = _FakeData(energy)
            return emissions

    module = types.ModuleType("codecarbon")
    module.OfflineEmissionsTracker = Tracker
    monkeypatch.setitem(sys.modules, "codecarbon", module)
    return record


def test_codecarbon_stand_in_report(monkeypatch):
    import logging

    record = _fake_codecarbon(monkeypatch, energy=2e-6, emissions=5e-7)
    assert metrics.codecarbon_available()
    logger = logging.getLogger("codecarbon")
    logger.setLevel(logging.INFO)
    with track_resources(energy_method="auto", country_iso_code="FRA") as t:
        sum(range(1000))
        # quiet while it runs
        assert logger.level == logging.ERROR
    assert logger.level == logging.INFO                   # restored
    r = t.report
    assert r.method == "codecarbon" and r.country_iso_code == "FRA"
    assert r.energy_kwh == 2e-6 and r.co2_kg == 5e-7
    assert r.carbon_intensity == pytest.approx(5e-7 / 2e-6 * 1e3, rel=1e-15)   # 250 g/kWh
    assert r.cpu_watts_per_core is None
    assert "codecarbon, FRA, 250 g/kWh" in str(r)
    # offline, per process, no emissions.csv written
    assert record["output_methods"] == [] and record["tracking_mode"] == "process"
    assert record["country_iso_code"] == "FRA" and record["started"]


def test_codecarbon_stand_in_older_signature(monkeypatch):
    record = _fake_codecarbon(monkeypatch, modern=False)
    with track_resources(energy_method="codecarbon") as t:
        pass
    assert record["save_to_file"] is False and "country_iso_code" in record
    assert record["country_iso_code"] is None and t.report.country_iso_code is None


@pytest.mark.parametrize("fail, error, match", [
    ("init", OSError, "no hardware probe"),
    ("start", RuntimeError, "cannot start"),
    ("none", RuntimeError, "no measurement"),
])
def test_codecarbon_stand_in_failures_raise_and_restore_the_logger(monkeypatch, fail, error,
                                                                    match):
    import logging

    _fake_codecarbon(monkeypatch, fail=fail)
    logger = logging.getLogger("codecarbon")
    logger.setLevel(logging.WARNING)
    with pytest.raises(error, match=match):
        with track_resources(energy_method="codecarbon"):
            pass
    assert logger.level == logging.WARNING


def test_codecarbon_stand_in_non_finite_measurement(monkeypatch):
    _fake_codecarbon(monkeypatch, energy=float("nan"))
    with pytest.raises(RuntimeError, match="energy=nan"):
        with track_resources(energy_method="codecarbon"):
            pass


def test_codecarbon_stand_in_zero_energy_has_no_intensity(monkeypatch):
    _fake_codecarbon(monkeypatch, energy=0.0, emissions=0.0)
    with track_resources(energy_method="codecarbon") as t:
        pass
    assert t.report.energy_kwh == 0.0 and math.isnan(t.report.carbon_intensity)
