"""Fixtures shared by every test directory."""

import copy
import io
import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning


def _pickle(est):
    return pickle.loads(pickle.dumps(est))


def _modelfile(est):
    from sklipschitz.cli import modelfile

    buf = io.BytesIO()
    modelfile.dump(est, buf)
    buf.seek(0)
    return modelfile.load(buf)


#: the ways an estimator is saved and loaded again
ROUND_TRIPS = {"deepcopy": copy.deepcopy, "modelfile": _modelfile, "pickle": _pickle}


@pytest.fixture(params=sorted(ROUND_TRIPS))
def round_trip(request):
    """A function that saves an estimator and loads it again: by pickle, by
    ``copy.deepcopy`` or through a command-line model file (parametrize it
    indirectly to take fewer)."""
    return ROUND_TRIPS[request.param]


@pytest.fixture(scope="session")
def five_classes():
    """600 rows of 5 standard-normal features and 5 classes, each row's class
    the largest of 5 random linear scores plus a little noise (class 3 has 61
    rows)."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((600, 5))
    W = rng.standard_normal((5, 5)) * 2
    y = np.argmax(X @ W + 0.3 * rng.standard_normal((600, 5)), axis=1)
    return X, y


@pytest.fixture
def class_stream(five_classes):
    """``run(est, order, passes, chunk=30)``: ``est.partial_fit`` on the rows of
    ``five_classes`` in ``order``, ``chunk`` rows a call, ``passes`` times;
    returns ``est`` and the ConvergenceWarnings about class shares."""
    X, y = five_classes

    def run(est, order, passes, chunk=30):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(passes):
                for s in range(0, len(order), chunk):
                    c = order[s:s + chunk]
                    est.partial_fit(X[c], y[c], classes=np.arange(5))
        warned = [w for w in caught if issubclass(w.category, ConvergenceWarning)
                  and "class shares" in str(w.message)]
        return est, warned

    return run
