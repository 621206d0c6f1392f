"""Shared set-up of the tests of the exact linear solver."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The references (SLSQP, L-BFGS-B, HiGHS, QuantReg) make many small BLAS
    calls; with several threads on a busy machine they slow down by 20x."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
