"""Fixtures shared by every test directory."""

import copy
import io
import pickle

import pytest


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
