"""One BLAS thread while a fit needs it, restored when the last fit ends.

Many small matrix products (the passes of the exact linear solver over a
narrow design, the row blocks of the SBAF kernel) are slower with a
multi-threaded BLAS than with one thread: the threads spend more time
synchronising than computing, badly so on a busy machine.

Limiting the BLAS is a process-wide setting, so nested or concurrent
``threadpool_limits`` contexts do not compose: a thread that enters while
another holds the limit records "1 thread" as the original value and
restores it on exit, leaving the whole process at one BLAS thread for good.
:func:`single_blas_thread` is reference counted under a lock instead: the
first fit to enter sets the limit, later ones only count, and the last one
to leave restores the limits that were in place before the first entered.
"""

from __future__ import annotations

import contextlib
import threading

__all__ = ["single_blas_thread"]

_LOCK = threading.Lock()
_users = 0
_limiter = None


@contextlib.contextmanager
def single_blas_thread(active=True):
    """Context manager: BLAS at one thread while at least one user is inside.

    ``active=False`` makes it a no-op (for callers that only limit large
    numbers of small products).
    """
    if not active:
        yield
        return
    global _users, _limiter
    with _LOCK:
        if _users == 0:
            _limiter = _limit()
        _users += 1
    try:
        yield
    finally:
        with _LOCK:
            _users -= 1
            if _users == 0 and _limiter is not None:
                _limiter.restore_original_limits()
                _limiter = None


def _limit():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - scikit-learn requires it
        return None
    # a new controller each time: BLAS libraries loaded since the last fit
    # are found (a few milliseconds, once per outermost fit)
    return ThreadpoolController().limit(limits=1, user_api="blas")
