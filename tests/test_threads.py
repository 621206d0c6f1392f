"""BLAS thread limits: set while fits run, restored when the last one ends."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from sklipschitz import LipschitzRegressor
from sklipschitz._threads import single_blas_thread
from sklipschitz.kernels import sbaf_kernel


def _blas_threads():
    return sorted((i["filepath"], i["num_threads"]) for i in threadpool_info()
                  if i["user_api"] == "blas")


def _run_concurrently(target, n_threads=4, rounds=15):
    barrier = threading.Barrier(n_threads)
    errors = []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            for _ in range(rounds):
                barrier.wait(timeout=60)
                target(rng)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def _fit(rng):
    X = rng.standard_normal((300, 5))
    LipschitzRegressor(loss="quantile", quantile=0.3).fit(X, X @ np.arange(5.0) + rng.standard_normal(300))
    # other BLAS work of the thread, outside any limit
    np.linalg.eigh(X.T @ X)


def _kernel(rng):
    X = rng.standard_normal((60, 4))
    sbaf_kernel(X, X[:20])
    np.linalg.eigh(X.T @ X)


@pytest.mark.parametrize("target", [_fit, _kernel], ids=["fit", "sbaf_kernel"])
def test_concurrent_fits_restore_the_blas_threads(target):
    # the process's own thread counts (an enclosing threadpool_limits would
    # hide the defect this guards against)
    before = _blas_threads()
    if all(n == 1 for _, n in before):
        pytest.skip("BLAS runs one thread here: nothing to restore")
    _run_concurrently(target)
    assert _blas_threads() == before


def test_reference_counting_nested_and_interleaved():
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        first, second = single_blas_thread(), single_blas_thread()
        first.__enter__()
        assert all(n == 1 for _, n in _blas_threads())
        second.__enter__()
        first.__exit__(None, None, None)      # the first user leaves first
        assert all(n == 1 for _, n in _blas_threads())
        second.__exit__(None, None, None)
        assert _blas_threads() == before
        with single_blas_thread(active=False):
            assert _blas_threads() == before
