"""Resources used by a fit: time, CPU, memory, epochs, energy and CO2.

Judging a training method by its accuracy alone hides what it costs; this
module measures the rest of the bill for any block of code:

>>> from sklearn.datasets import load_diabetes
>>> from sklipschitz import LipschitzRegressor
>>> from sklipschitz.metrics import resource_report, track_resources
>>> X, y = load_diabetes(return_X_y=True)
>>> report = resource_report(LipschitzRegressor(batch_size=32, max_iter=5), X, y,
...                          energy_method="estimate")
>>> report.n_iter
5
>>> with track_resources(energy_method="estimate") as tracker:
...     _ = sum(range(10**5))
>>> tracker.report.cpu_seconds >= 0
True

What is measured, and how
-------------------------
wall_seconds
    ``time.perf_counter`` around the block.
cpu_seconds
    ``time.process_time`` (CPU time of every thread of this process: BLAS
    and OpenMP threads, joblib's threading backend) plus the CPU time of
    child processes that ended and were waited for during the block
    (``resource.getrusage(RUSAGE_CHILDREN)``).  Worker processes that outlive
    the block (joblib's loky pool) are not counted.
peak_memory_mb
    Peak of the memory traced by :mod:`tracemalloc` above its level at the
    start of the block, in MB (10**6 bytes).  It sees every Python object
    and every NumPy array buffer (NumPy reports its allocations to
    tracemalloc); it does not see memory that C/Fortran libraries allocate
    on their own (BLAS work buffers, some SciPy solvers), nor memory of
    other processes.  Tracing adds a cost to every allocation, several times
    the CPU time of a mini-batch fit over small batches, so
    :func:`resource_report` by default takes the memory from a traced fit of
    a clone and the times from an untraced fit (``trace_memory='separate'``);
    in :func:`track_resources` set ``trace_memory=False`` to time a block
    without it (the field is then None).
peak_rss_mb
    Peak resident set size of the process above its value at the start of
    the block, in MB.  On Linux the kernel's high-water mark is reset at the
    start (``/proc/self/clear_refs``) and read at the end (``VmHWM``), so the
    peak is exact and needs no sampling (``rss_method='hiwater'``).  It
    counts everything the process touches, C libraries included, but also
    other threads' allocations, and memory freed earlier but kept by the
    allocator is reused without raising RSS (so it can under-count).  Where
    the mark cannot be reset, ``ru_maxrss`` (the lifetime peak) is used: the
    block's extra memory shows only if it raises the lifetime peak
    (``rss_method='ru_maxrss'``, a lower bound).  None where neither exists.
n_iter
    The estimator's ``n_iter_`` (epochs), when it has one.
energy_kwh, co2_kg, method
    ``method='codecarbon'``: codecarbon's ``OfflineEmissionsTracker`` (no
    network; optional extra ``sklipschitz[carbon]``) in ``tracking_mode=
    'process'``; its energy covers CPU (RAPL counters when readable, else
    the CPU model's TDP scaled by the process's CPU load, 4 W per thread for
    unknown models) and RAM (a power model of the installed memory) over
    the wall time, and its CO2 uses the country's grid mix
    (``country_iso_code``) or the world average.
    ``method='estimate'``: ``energy_kwh = cpu_seconds * cpu_watts_per_core /
    3.6e6`` and ``co2_kg = energy_kwh * carbon_intensity / 1000``: CPU only,
    see :data:`DEFAULT_CPU_WATTS_PER_CORE` and
    :data:`DEFAULT_CARBON_INTENSITY` for the defaults and their sources.
    ``docs/sustainability.md`` discusses what these numbers mean.

Nesting ``track_resources`` blocks is supported (an inner block does not
hide its memory peak from an outer one); blocks running concurrently in
different threads are not.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import inspect
import logging
import math
import os
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Real
from typing import Any, Literal, cast

try:  # not on Windows
    import resource
except ImportError:  # pragma: no cover - platform dependent
    resource = None  # type: ignore[assignment]

__all__ = [
    "DEFAULT_CARBON_INTENSITY",
    "DEFAULT_CPU_WATTS_PER_CORE",
    "ResourceReport",
    "ResourceTracker",
    "codecarbon_available",
    "resource_report",
    "track_resources",
]

#: Power drawn per busy logical CPU (W) in the fallback estimate.  This is
#: codecarbon's own figure for CPUs missing from its TDP table
#: (``DEFAULT_POWER_PER_CORE = 4`` W per thread in ``codecarbon.core.cpu``,
#: version 3.3), so both methods agree in scale on such machines.  For
#: comparison, TDP per hardware thread is 95 W / 16 = 5.9 W for an Intel
#: Xeon E5-2650 v2 and 280 W / 128 = 2.2 W for an AMD EPYC 7763 (TDPs from
#: codecarbon's ``cpu_power.csv``).
DEFAULT_CPU_WATTS_PER_CORE = 4.0

#: Grid carbon intensity (g CO2-equivalent per kWh) in the fallback estimate:
#: the world average of the IEA's Global Energy & CO2 Status Report 2019, the
#: value codecarbon also uses when it knows no country.  Country figures
#: differ by more than 10x (codecarbon's 2023 data: France 56, United
#: Kingdom 238, United States 369, China 582, India 713).
DEFAULT_CARBON_INTENSITY = 475.0

_MB = 1e6
_J_PER_KWH = 3.6e6
_ENERGY_METHODS = ("auto", "codecarbon", "estimate")


def codecarbon_available() -> bool:
    """Whether codecarbon can be imported (the ``[carbon]`` extra).

    Returns
    -------
    bool
        True when ``import codecarbon`` succeeds.
    """
    try:
        import codecarbon  # noqa: F401
    except ImportError:
        return False
    return True


@dataclasses.dataclass(frozen=True)
class ResourceReport:
    """What a block of code (or a fit) used.

    An immutable record built by :func:`track_resources` and
    :func:`resource_report`; its fields are described below (they are also
    its attributes).  ``str(report)`` is a short table; :meth:`as_dict` gives
    the fields for JSON or CSV output.  How each figure is measured, and its
    limits, are in the module docstring of :mod:`sklipschitz.metrics`.

    Parameters
    ----------
    wall_seconds : float
        Elapsed (wall-clock) time of the block.
    cpu_seconds : float
        CPU time of the process and of its finished child processes.
    peak_memory_mb : float or None
        Tracemalloc peak above the start (Python objects and NumPy arrays);
        None when memory was not traced.
    peak_rss_mb : float or None
        Peak resident memory above the start (``rss_method``).
    rss_method : {'hiwater', 'ru_maxrss'} or None
        How ``peak_rss_mb`` was measured (None: not available).
    n_iter : int or None
        Epochs (``n_iter_``) of the fitted estimator.
    energy_kwh : float
        Energy used, in kWh.
    co2_kg : float
        CO2-equivalent emitted, in kg.
    method : {'codecarbon', 'estimate'}
        Which of the two produced ``energy_kwh`` and ``co2_kg``.
    carbon_intensity : float
        Grid intensity behind ``co2_kg``, in g CO2-eq per kWh (codecarbon's,
        when it was used).
    cpu_watts_per_core : float or None, default=None
        The per-core power of the estimate (None with codecarbon).
    country_iso_code : str or None, default=None
        Country given to codecarbon (None: world average / estimate).

    See Also
    --------
    track_resources : Measure a ``with`` block.
    resource_report : Measure one call to ``fit``.

    Examples
    --------
    >>> from sklipschitz.metrics import track_resources
    >>> with track_resources(energy_method="estimate") as t:
    ...     total = sum(range(10**5))
    >>> report = t.report
    >>> report.method, report.cpu_watts_per_core
    ('estimate', 4.0)
    >>> sorted(report.as_dict())[:3]
    ['carbon_intensity', 'co2_kg', 'country_iso_code']
    """

    wall_seconds: float
    cpu_seconds: float
    peak_memory_mb: float | None
    peak_rss_mb: float | None
    rss_method: str | None
    n_iter: int | None
    energy_kwh: float
    co2_kg: float
    method: str
    carbon_intensity: float
    cpu_watts_per_core: float | None = None
    country_iso_code: str | None = None

    @property
    def co2_g(self) -> float:
        """``co2_kg`` in grams."""
        return self.co2_kg * 1e3

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON-serialisable).

        Returns
        -------
        dict
            Field name to value, for every field of the report.
        """
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        def mb(v):
            return "n/a" if v is None else f"{v:.3g} MB"

        if self.method == "estimate":
            how = (
                f"estimate: CPU time x {self.cpu_watts_per_core:g} W/core x "
                f"{self.carbon_intensity:g} g/kWh"
            )
        else:
            where = self.country_iso_code or "world average"
            how = f"codecarbon, {where}, {self.carbon_intensity:.0f} g/kWh"
        lines = [
            "Resource report",
            f"  wall time      {self.wall_seconds:.3f} s",
            f"  CPU time       {self.cpu_seconds:.3f} s",
            f"  peak memory    {mb(self.peak_memory_mb)} (tracemalloc)",
            f"  peak RSS       {mb(self.peak_rss_mb)}"
            + (f" ({self.rss_method})" if self.rss_method else ""),
            f"  epochs         {'n/a' if self.n_iter is None else self.n_iter}",
            f"  energy         {self.energy_kwh * 1e3:.4g} Wh",
            f"  CO2            {self.co2_kg * 1e3:.4g} g",
            f"  method         {how}",
        ]
        return "\n".join(lines)


# ----------------------------------------------------------------------------
# Resident memory: kernel high-water mark (Linux) or ru_maxrss
# ----------------------------------------------------------------------------


def _read_status_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hiwater():
    """Reset the kernel's peak-RSS mark of this process; False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return _read_status_kb("VmHWM") is not None


def _ru_maxrss_bytes():
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux and the BSDs, bytes on macOS
    return float(peak) if os.uname().sysname == "Darwin" else float(peak) * 1024.0


def _children_cpu():
    if resource is None:
        return 0.0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# active trackers, outermost first: an inner block that resets a peak first
# hands the peak seen so far to the blocks around it
_ACTIVE: list[ResourceTracker] = []


# ----------------------------------------------------------------------------
# Energy back ends
# ----------------------------------------------------------------------------


class _CodeCarbonMeter:
    """codecarbon's offline tracker, quiet, in process mode."""

    def __init__(self, country_iso_code):
        from codecarbon import OfflineEmissionsTracker

        self._logger = logging.getLogger("codecarbon")
        self._level = self._logger.level
        self._logger.setLevel(logging.ERROR)
        kwargs = dict(log_level="error", tracking_mode="process")
        # write no emissions.csv: 'output_methods' replaced 'save_to_file' in 3.x
        if any(
            "output_methods" in inspect.signature(cls.__init__).parameters
            for cls in OfflineEmissionsTracker.__mro__
            if "__init__" in vars(cls)
        ):
            kwargs["output_methods"] = []
        else:  # pragma: no cover - older codecarbon
            kwargs["save_to_file"] = False
        if country_iso_code is not None:
            kwargs["country_iso_code"] = country_iso_code
        try:
            self._tracker = OfflineEmissionsTracker(**kwargs)
        except Exception:
            self._logger.setLevel(self._level)
            raise

    def start(self):
        try:
            self._tracker.start()
        except Exception:
            self._logger.setLevel(self._level)
            raise

    def stop(self):
        try:
            emissions = self._tracker.stop()
            data = self._tracker.final_emissions_data
        finally:
            self._logger.setLevel(self._level)
        if data is None or emissions is None:
            raise RuntimeError("codecarbon returned no measurement")
        energy = float(data.energy_consumed)
        co2 = float(emissions)
        if not (math.isfinite(energy) and math.isfinite(co2)):
            raise RuntimeError(f"codecarbon returned energy={energy}, emissions={co2}")
        intensity = co2 / energy * 1e3 if energy > 0 else float("nan")
        return energy, co2, intensity


def _check_positive(name, value):
    if not isinstance(value, Real) or isinstance(value, bool) or not (
        math.isfinite(value) and value > 0
    ):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    return float(value)


def _resolve_method(energy_method):
    if energy_method not in _ENERGY_METHODS:
        raise ValueError(
            f"energy_method must be one of {_ENERGY_METHODS}, got {energy_method!r}."
        )
    if energy_method == "auto":
        return "codecarbon" if codecarbon_available() else "estimate"
    if energy_method == "codecarbon" and not codecarbon_available():
        raise ImportError(
            "energy_method='codecarbon' needs codecarbon: pip install 'sklipschitz[carbon]' "
            "(or pip install codecarbon), or use energy_method='estimate'."
        )
    return energy_method


# ----------------------------------------------------------------------------
# The tracker
# ----------------------------------------------------------------------------


class ResourceTracker:
    """Measures one block; use through :func:`track_resources`.

    After the block, ``report`` holds the :class:`ResourceReport`.
    ``n_iter`` may be set inside the block (``resource_report`` sets it from
    the fitted estimator).

    Parameters
    ----------
    energy_method : {'auto', 'codecarbon', 'estimate'}, default='auto'
        As in :func:`track_resources`.
    country_iso_code : str or None, default=None
        3-letter ISO code of the grid for codecarbon (e.g. 'FRA').
    cpu_watts_per_core : float, default=4.0
        Watts per busy logical CPU for the estimate.
    carbon_intensity : float, default=475.0
        Grid intensity for the estimate, in g CO2-eq per kWh.
    trace_memory : bool, default=True
        Trace Python/NumPy allocations with tracemalloc.

    Attributes
    ----------
    method : {'codecarbon', 'estimate'}
        The energy method resolved from ``energy_method``.
    n_iter : int or None
        Epochs to record in the report; set it inside the block.
    report : ResourceReport or None
        The measurements, set when the block ends.

    See Also
    --------
    track_resources : The context manager that creates and runs a tracker.
    resource_report : Measure one call to ``fit``.

    Examples
    --------
    >>> from sklipschitz.metrics import track_resources
    >>> with track_resources(energy_method="estimate", trace_memory=False) as tracker:
    ...     tracker.n_iter = 3
    >>> tracker.report.n_iter, tracker.report.peak_memory_mb is None
    (3, True)
    """

    def __init__(
        self,
        *,
        energy_method: Literal["auto", "codecarbon", "estimate"] = "auto",
        country_iso_code: str | None = None,
        cpu_watts_per_core: float = DEFAULT_CPU_WATTS_PER_CORE,
        carbon_intensity: float = DEFAULT_CARBON_INTENSITY,
        trace_memory: bool = True,
    ) -> None:
        self.method = _resolve_method(energy_method)
        if country_iso_code is not None and not (
            isinstance(country_iso_code, str) and len(country_iso_code) == 3
        ):
            raise ValueError(
                "country_iso_code must be a 3-letter ISO 3166 code such as 'FRA', "
                f"got {country_iso_code!r}."
            )
        self.country_iso_code = None if country_iso_code is None else country_iso_code.upper()
        self.cpu_watts_per_core = _check_positive("cpu_watts_per_core", cpu_watts_per_core)
        self.carbon_intensity = _check_positive("carbon_intensity", carbon_intensity)
        self.trace_memory = bool(trace_memory)
        self.n_iter = None
        self.report = None
        self._traced_peak_seen = 0
        self._hwm_seen_kb = 0

    # called by an inner tracker before it resets the shared peaks
    def _note_peaks(self, traced_peak, hwm_kb):
        if traced_peak is not None:
            self._traced_peak_seen = max(self._traced_peak_seen, traced_peak)
        if hwm_kb is not None:
            self._hwm_seen_kb = max(self._hwm_seen_kb, hwm_kb)

    def _start(self):
        self._meter = None
        if self.method == "codecarbon":
            # started before the clocks: its hardware probe (~2 s) is not charged
            self._meter = _CodeCarbonMeter(self.country_iso_code)
            self._meter.start()
        gc.collect()
        traced_peak = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None
        hwm_kb = _read_status_kb("VmHWM")
        for outer in _ACTIVE:
            outer._note_peaks(traced_peak, hwm_kb)

        self._started_tracemalloc = False
        if self.trace_memory:
            if not tracemalloc.is_tracing():
                tracemalloc.start()
                self._started_tracemalloc = True
            tracemalloc.reset_peak()
            self._traced_start = tracemalloc.get_traced_memory()[0]

        if _reset_hiwater():
            self.rss_method = "hiwater"
            self._rss_start_kb = _read_status_kb("VmRSS")
        else:
            base = _ru_maxrss_bytes()
            self.rss_method = None if base is None else "ru_maxrss"
            self._maxrss_start = base
        _ACTIVE.append(self)
        self._children_start = _children_cpu()
        self._cpu_start = time.process_time()
        self._wall_start = time.perf_counter()

    def _stop(self):
        wall = time.perf_counter() - self._wall_start
        cpu = time.process_time() - self._cpu_start
        cpu += max(_children_cpu() - self._children_start, 0.0)
        _ACTIVE.remove(self)

        peak_memory = None
        if self.trace_memory:
            peak = max(tracemalloc.get_traced_memory()[1], self._traced_peak_seen)
            peak_memory = max(peak - self._traced_start, 0) / _MB
            if self._started_tracemalloc:
                tracemalloc.stop()

        peak_rss = None
        if self.rss_method == "hiwater":
            hwm_kb = max(_read_status_kb("VmHWM") or 0, self._hwm_seen_kb)
            peak_rss = max(hwm_kb - self._rss_start_kb, 0) * 1024.0 / _MB
        elif self.rss_method == "ru_maxrss":
            peak_rss = max(_ru_maxrss_bytes() - self._maxrss_start, 0.0) / _MB
        for outer in _ACTIVE:  # this block's peaks belong to the blocks around it
            outer._note_peaks(
                tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None,
                _read_status_kb("VmHWM"),
            )

        if self._meter is not None:
            energy, co2, intensity = self._meter.stop()
            watts = None
        else:
            watts = self.cpu_watts_per_core
            intensity = self.carbon_intensity
            energy = cpu * watts / _J_PER_KWH
            co2 = energy * intensity / 1e3
        self.report = ResourceReport(
            wall_seconds=wall,
            cpu_seconds=cpu,
            peak_memory_mb=peak_memory,
            peak_rss_mb=peak_rss,
            rss_method=self.rss_method,
            n_iter=self.n_iter,
            energy_kwh=energy,
            co2_kg=co2,
            method=self.method,
            carbon_intensity=intensity,
            cpu_watts_per_core=watts,
            country_iso_code=self.country_iso_code if self.method == "codecarbon" else None,
        )
        return self.report


@contextmanager
def track_resources(
    *,
    energy_method: Literal["auto", "codecarbon", "estimate"] = "auto",
    country_iso_code: str | None = None,
    cpu_watts_per_core: float = DEFAULT_CPU_WATTS_PER_CORE,
    carbon_intensity: float = DEFAULT_CARBON_INTENSITY,
    trace_memory: bool = True,
) -> Iterator[ResourceTracker]:
    """Measure the resources used by the code in a ``with`` block.

    Parameters
    ----------
    energy_method : {'auto', 'codecarbon', 'estimate'}, default='auto'
        'auto' uses codecarbon when it is installed (``sklipschitz[carbon]``)
        and the estimate otherwise.  codecarbon probes the hardware when it
        starts (about 2 s, outside the measured block), so prefer 'estimate'
        for many short fits and for numbers comparable across machines.
    country_iso_code : str or None, default=None
        3-letter ISO code of the grid for codecarbon (e.g. 'FRA');
        None: codecarbon's world average.  Ignored by the estimate.
    cpu_watts_per_core : float, default=4.0
        Watts per busy logical CPU for the estimate
        (:data:`DEFAULT_CPU_WATTS_PER_CORE`).
    carbon_intensity : float, default=475.0
        Grid intensity for the estimate, in g CO2-eq per kWh
        (:data:`DEFAULT_CARBON_INTENSITY`).
    trace_memory : bool, default=True
        Trace Python/NumPy allocations with tracemalloc (``peak_memory_mb``).

    Yields
    ------
    tracker : ResourceTracker
        Its ``report`` attribute is set when the block ends (also when it
        raises).

    See Also
    --------
    resource_report : Measure one call to ``fit``.
    ResourceReport : The measurements.

    Examples
    --------
    >>> import numpy as np
    >>> with track_resources(energy_method="estimate") as t:
    ...     a = np.ones(10**6)
    >>> t.report.peak_memory_mb >= 8
    True
    """
    tracker = ResourceTracker(
        energy_method=energy_method,
        country_iso_code=country_iso_code,
        cpu_watts_per_core=cpu_watts_per_core,
        carbon_intensity=carbon_intensity,
        trace_memory=trace_memory,
    )
    tracker._start()
    try:
        yield tracker
    finally:
        tracker._stop()


def resource_report(
    estimator: Any,
    X: Any,
    y: Any = None,
    *,
    energy_method: Literal["auto", "codecarbon", "estimate"] = "auto",
    country_iso_code: str | None = None,
    cpu_watts_per_core: float = DEFAULT_CPU_WATTS_PER_CORE,
    carbon_intensity: float = DEFAULT_CARBON_INTENSITY,
    trace_memory: Literal["separate"] | bool = "separate",
    **fit_params: Any,
) -> ResourceReport:
    """Fit ``estimator`` on ``X, y`` and report what the fit used.

    Only ``estimator.fit(X, y, **fit_params)`` is measured.

    Parameters
    ----------
    estimator : estimator object
        Fitted in place.
    X : array-like of shape (n_samples, n_features)
        Training data passed to ``fit``.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        Targets passed to ``fit``.
    energy_method : {'auto', 'codecarbon', 'estimate'}, default='auto'
        As in :func:`track_resources`.
    country_iso_code : str or None, default=None
        As in :func:`track_resources`.
    cpu_watts_per_core : float, default=4.0
        As in :func:`track_resources`.
    carbon_intensity : float, default=475.0
        As in :func:`track_resources`.
    trace_memory : {'separate', True, False}, default='separate'
        'separate': first fit a clone of the estimator (``sklearn.base.clone``,
        else a deep copy) under tracemalloc for the memory fields, then time
        the fit of ``estimator`` itself without tracing, because tracing
        slows allocation-heavy fits several times (mini-batch loops over
        small batches) and would bias the time, CPU and energy columns.
        Costs a second fit.  True: one traced fit (time includes tracing).
        False: one untraced fit, ``peak_memory_mb`` None (``peak_rss_mb``
        is still measured).
    **fit_params
        Passed to ``fit`` (e.g. ``sample_weight``).

    Returns
    -------
    ResourceReport
        ``n_iter`` is ``estimator.n_iter_`` when it exists (the largest
        entry if it is an array, as for one-vs-rest models), else None.
        With 'separate', ``peak_memory_mb``, ``peak_rss_mb`` and
        ``rss_method`` come from the traced fit of the clone (its RSS, like
        any RSS figure, includes tracemalloc's own bookkeeping), the other
        fields from the timed fit.

    See Also
    --------
    track_resources : Measure any ``with`` block.

    Examples
    --------
    >>> from sklearn.linear_model import SGDRegressor
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True)
    >>> r = resource_report(SGDRegressor(max_iter=5, tol=None), X, y, energy_method="estimate")
    >>> r.method, r.n_iter, r.peak_memory_mb > 0
    ('estimate', 5, True)
    """
    if not hasattr(estimator, "fit"):
        raise TypeError(f"{type(estimator).__name__} has no fit method.")
    if not (trace_memory == "separate" or isinstance(trace_memory, bool)):
        raise ValueError(
            f"trace_memory must be 'separate', True or False, got {trace_memory!r}."
        )
    memory = None
    if trace_memory == "separate":
        twin = _clone(estimator)
        # energy_method='estimate': the memory pass needs no energy figure
        with track_resources(energy_method="estimate", trace_memory=True) as memory:
            twin.fit(X, y, **fit_params)
        del twin
    with track_resources(
        energy_method=energy_method,
        country_iso_code=country_iso_code,
        cpu_watts_per_core=cpu_watts_per_core,
        carbon_intensity=carbon_intensity,
        trace_memory=trace_memory is True,
    ) as tracker:
        estimator.fit(X, y, **fit_params)
        tracker.n_iter = _epochs(estimator)
    report = cast(ResourceReport, tracker.report)  # set when the block ends
    if memory is not None:
        traced = cast(ResourceReport, memory.report)
        report = dataclasses.replace(
            report,
            peak_memory_mb=traced.peak_memory_mb,
            peak_rss_mb=traced.peak_rss_mb,
            rss_method=traced.rss_method,
        )
    return report


def _clone(estimator):
    try:
        from sklearn.base import clone

        return clone(estimator)
    except (TypeError, RuntimeError):
        return copy.deepcopy(estimator)


def _epochs(estimator):
    """``estimator.n_iter_`` as an int (the largest entry of an array, as for
    one-vs-rest models), or None when there is none.  Shared with the
    ``compare`` command's resource columns."""
    n_iter = getattr(estimator, "n_iter_", None)
    if n_iter is None:
        return None
    try:
        values = [float(v) for v in (n_iter.ravel() if hasattr(n_iter, "ravel") else
                                     n_iter if hasattr(n_iter, "__len__") else [n_iter])]
    except (TypeError, ValueError):
        return None
    if not values or not all(math.isfinite(v) for v in values):
        return None
    return int(max(values))
