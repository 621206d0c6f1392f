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
import time

__all__ = ["single_blas_thread"]

_LOCK = threading.Lock()
_users = 0
_limiter = None
# repetitions of the request that restores the thread counts
_RESTORE_ATTEMPTS = 20


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
            _limiter = _Limit(_limiter)
        _users += 1
    try:
        yield
    finally:
        with _LOCK:
            _users -= 1
            if _users == 0:
                _limiter.restore()


class _Limit:
    """One BLAS thread in every BLAS library loaded, and the way back.

    ``previous``: the limit of the last outermost fit; if its restoration
    did not hold (see :meth:`restore`), the thread counts read now are its
    own "1", not the user's, and its originals are kept instead.
    """

    def __init__(self, previous=None):
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - scikit-learn requires it
            self.libs, self.original, self.restored = [], [], True
            return
        # a new controller each time: BLAS libraries loaded since the last
        # fit are found (a few milliseconds, once per outermost fit)
        self.libs = ThreadpoolController().select(user_api="blas").lib_controllers
        self.original = [lib.num_threads for lib in self.libs]
        if previous is not None and not previous.restored:
            known = {lib.filepath: n for lib, n in zip(previous.libs, previous.original)}
            self.original = [known.get(lib.filepath, n) for lib, n in zip(self.libs, self.original)]
        self.restored = False
        for lib in self.libs:
            lib.set_num_threads(1)

    def restore(self):
        """Set the original thread counts back, and check that they hold.

        OpenBLAS (pthreads, measured with 0.3.30) may ignore a request for
        more threads made while another thread runs a BLAS call: the count
        stays at 1.  The request is repeated for a few milliseconds; if it
        still does not hold, the next outermost fit restores these counts.
        """
        for _ in range(_RESTORE_ATTEMPTS):
            for lib, n in zip(self.libs, self.original):
                lib.set_num_threads(n)
            self.restored = all(lib.num_threads == n for lib, n in zip(self.libs, self.original))
            if self.restored:
                return
            time.sleep(0.001)
