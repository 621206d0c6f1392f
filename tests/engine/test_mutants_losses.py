"""Losses: cases built for mutants that survived the mutation run
(docs/testing.md, "Mutation testing")."""

import numpy as np

from sklipschitz._engine.losses import HalfSquaredError, Huber, LogCosh, PinballLoss


def test_reprs_name_the_parameters():
    assert repr(HalfSquaredError()) == "HalfSquaredError()"
    assert repr(PinballLoss(0.3)) == "PinballLoss(quantile=0.3)"
    assert repr(LogCosh()) == "LogCosh()"
    assert repr(LogCosh(scale=1.0)) == "LogCosh()"
    assert repr(LogCosh(scale=2.0)) == "LogCosh(scale=2.0)"
    assert repr(LogCosh(scale=np.array([1.0, 2.0]))) == "LogCosh(scale=array([1., 2.]))"
    assert repr(LogCosh(scale=np.array([1.0, 1.0]))) == "LogCosh()"
    assert repr(Huber(epsilon=1.5)) == "Huber(epsilon=1.5)"
