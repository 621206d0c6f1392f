"""The cheap epoch of SymNet: buffered passes, fused units, the guard's pass statistics.

Each fast path is checked against the plain computation it replaces (the
unit's ``value``/``derivative``, the allocating forward/backward pass, a
dense eigendecomposition of the centred Gram matrix, the generic centred
update).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from sklipschitz._engine import network_lipschitz as nl
from sklipschitz._engine.activations import ACTIVATIONS, SBAF, AReLU, make_activation
from sklipschitz._engine.losses import (
    AbsoluteError,
    BinomialLoss,
    HalfSquaredError,
    MultinomialLoss,
)
from sklipschitz._engine.network import DenseNetwork
from sklipschitz._engine.updates import SGD

UNITS = [(name, make_activation(name)) for name in sorted(ACTIVATIONS)] + [
    ("sbaf raw", SBAF()),
    ("sbaf alpha=0.3", SBAF(0.9, 0.3, output="rescaled")),
    ("arelu n=1", AReLU(0.5, 1.0)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, unit", UNITS, ids=[u[0] for u in UNITS])
def test_fused_unit_matches_value_and_derivative(name, unit, dtype):
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((40, 30)) * 5).astype(dtype)
    z[0, :4] = [0.0, 60.0, -60.0, 1e-3]
    a_ref = unit.value(z.copy())
    d_ref = unit.derivative(z.copy(), a_ref)
    bufs = [np.empty_like(z) for _ in range(3)]
    a, d = unit.forward_train(z.copy(), *bufs)
    d = np.ones_like(z) if d is None else d
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    assert a.dtype == dtype and d.dtype == dtype
    np.testing.assert_allclose(a, a_ref, **tol)
    np.testing.assert_allclose(d, d_ref, **tol)
    np.testing.assert_allclose(unit.value_into(z.copy(), bufs[0]), a_ref, **tol)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("activation", ["relu", "sbaf", "arelu", "tanh"])
def test_buffered_pass_matches_the_allocating_pass(activation, sparse):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((37, 6))
    if sparse:
        X = sp.csr_matrix(X * (rng.random(X.shape) < 0.3))
    Y = np.eye(3)[rng.integers(0, 3, 37)]
    plain = DenseNetwork((6, 8, 5, 3), make_activation(activation))
    buffered = DenseNetwork((6, 8, 5, 3), make_activation(activation), buffers=True)
    coefs, intercepts = plain.init_params(rng)
    for loss in (MultinomialLoss(), HalfSquaredError()):
        for weight in (1.0 / 37, rng.random(37) / 20):
            ref = plain.objective_and_gradient(X, Y, None, loss, 1e-3, coefs, intercepts,
                                               normalized_weight=weight)
            got = buffered.objective_and_gradient(X, Y, None, loss, 1e-3, coefs, intercepts,
                                                  normalized_weight=weight)
            assert got[0] == pytest.approx(ref[0], rel=1e-12)
            for g, r in zip(got[1] + got[2], ref[1] + ref[2]):
                np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-13)
    # the objective in chunks of the workspace equals the whole-data one
    sw = rng.random(37)
    buffered.objective_and_gradient(X[:10], Y[:10], None, MultinomialLoss(), 0.0, coefs,
                                    intercepts, normalized_weight=0.1)
    assert buffered.objective(X, Y, sw, MultinomialLoss(), 1e-3, coefs, intercepts) == (
        pytest.approx(plain.objective(X, Y, sw, MultinomialLoss(), 1e-3, coefs, intercepts),
                      rel=1e-12))


def _dense_lambda(A, weights, q):
    """lambda_max([A - mu, 1]' diag(q) [A - mu, 1]), mu the weighted means (dense)."""
    mu = weights @ A
    At = np.hstack([A - mu, np.ones((A.shape[0], 1))])
    return np.linalg.eigvalsh(At.T @ (q[:, None] * At))[-1]


@pytest.mark.parametrize("loss", [BinomialLoss(), HalfSquaredError()], ids=["binomial", "squared"])
@pytest.mark.parametrize("uniform", [True, False])
def test_pass_statistics_one_power_step_matches_dense_eigenvalue(loss, uniform):
    """From a converged start vector, the one power step gathered over the chunks
    of the pass gives the dense lambda_max of every layer's centred Gram matrix,
    the weighted means, and the loss of the pass."""
    rng = np.random.default_rng(2)
    n = 230
    X = rng.standard_normal((n, 5)) + 1.0
    y = (rng.random(n) < 0.3).astype(float)[:, None]
    net = DenseNetwork((5, 7, 4, 1), make_activation("relu"), buffers=True)
    coefs, intercepts = net.init_params(rng)
    sw = np.ones(n) if uniform else rng.random(n) + 0.1
    weights = 1.0 / n if uniform else sw / sw.sum()
    raw, _, acts = net.forward(X, coefs, intercepts)
    curv = nl.local_curvature(loss, raw, 0.1)
    q = np.broadcast_to(weights, n) * (curv if curv is not None else 1.0)
    # start vectors: the dense top eigenvectors
    power = nl.PowerIteration()
    lams = []
    for k, A in enumerate(acts):
        w = np.broadcast_to(weights, n)
        mu = w @ A
        At = np.hstack([A - mu, np.ones((n, 1))])
        vals, vecs = np.linalg.eigh(At.T @ (q[:, None] * At))
        power.set_vector(("A", k), vecs[:, -1])
        lams.append(vals[-1])
    stats = nl.pass_statistics(net, X, y, sw, coefs, intercepts, batch_size=40,
                               weights=weights, power=power, loss=loss, curvature_floor=0.1)
    assert stats.value == pytest.approx(loss.objective(y, raw, sw), rel=1e-12)
    for k, A in enumerate(acts):
        np.testing.assert_allclose(stats.means()[k], np.broadcast_to(weights, n) @ A,
                                   rtol=1e-12)
        assert stats.gram_step(k) == pytest.approx(lams[k], rel=1e-10)
        assert lams[k] == pytest.approx(_dense_lambda(A, np.broadcast_to(weights, n), q))


def test_pass_statistics_frobenius_rule_of_nonsmooth_losses():
    """Absolute error: the published K_z / m per layer from the pass equals
    frobenius_factor on the stored activations (batches in stored order)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((333, 4))
    y = rng.standard_normal((333, 1))
    net = DenseNetwork((4, 6, 1), make_activation("sbaf"), buffers=True)
    coefs, intercepts = net.init_params(rng)
    stats = nl.pass_statistics(net, X, y, np.ones(333), coefs, intercepts, batch_size=50,
                               weights=1 / 333, power=nl.PowerIteration(),
                               loss=AbsoluteError(), curvature_floor=0.1)
    _, _, acts = net.forward(X, coefs, intercepts)
    consts = stats.constants(coefs, net.activation, alpha=0.0, batch_size=50)
    assert consts[-1] == pytest.approx(nl.frobenius_factor(acts[-1], 50), rel=1e-12)
    assert consts[0] == consts[-1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_in_place_centred_sgd_step_matches_the_generic_step(dtype):
    rng = np.random.default_rng(4)
    params = [rng.standard_normal((6, 5)), rng.standard_normal((5, 2)),
              rng.standard_normal(5), rng.standard_normal(2)]
    params = [p.astype(dtype) for p in params]
    grads = [rng.standard_normal(p.shape).astype(dtype) for p in params]
    means = [rng.random(6), rng.random(5)]
    rates = [0.3, 0.2, 0.3, 0.2]
    fast = nl.CentredUpdate(SGD())
    fast.means = means
    got = [p.copy() for p in params]
    fast.update(got, [g.copy() for g in grads], rates, fast.init(got))
    # the reference: a step on (W, c = b + mu W) in centred coordinates, mapped back
    for k in range(2):
        W, b, gW, gb = params[k], params[2 + k], grads[k], grads[2 + k]
        mu = means[k].astype(dtype)
        W_new = W - rates[k] * (gW - np.outer(mu, gb))
        c_new = (b + mu @ W) - rates[2 + k] * gb
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got[k], W_new, rtol=tol, atol=tol)
        np.testing.assert_allclose(got[2 + k], c_new - mu @ W_new, rtol=tol, atol=tol)


def test_fitted_model_keeps_no_training_buffers():
    """The buffers of the mini-batch passes are dropped after fit: a pickled model
    holds its weights, not a batch's worth of activations per layer."""
    import pickle

    from sklipschitz.neural_network import SymNetRegressor

    rng = np.random.default_rng(5)
    X = rng.standard_normal((300, 3))
    y = X[:, 0] + 0.1 * rng.standard_normal(300)
    reg = SymNetRegressor(hidden_layer_sizes=(500,), batch_size=100, max_iter=2,
                          random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 2 epochs only
        reg.fit(X, y)
    assert reg._network._work is None
    weights = sum(W.nbytes + b.nbytes for W, b in zip(reg.coefs_, reg.intercepts_))
    # a batch of activations alone (100 x 500 float64, four buffers) would be 1.6 MB
    assert len(pickle.dumps(reg)) < weights + 100_000
    np.testing.assert_allclose(pickle.loads(pickle.dumps(reg)).predict(X), reg.predict(X))
