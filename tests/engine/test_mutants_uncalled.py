"""Direct tests of engine functions the network and classifier tests reach
only indirectly: the activations' training-step kernels (values and
derivatives into preallocated buffers), their slope bounds, the losses'
starting constants and column subsets, Nesterov's column subset and the
loop's ``monotone`` undo (docs/testing.md, "Mutation testing").

References are independent closed forms: ``tanh``, ``expit``, SBAF
``1 / (1 + k x^a (1 - x)^(1 - a))`` at ``x = logistic(z)`` with derivative
``y (1 - y) (x - a)`` (chain rule), A-ReLU ``k z^n`` for ``z > 0``, central
finite differences, and dense-grid maxima.
"""

import math

import numpy as np
import pytest
from scipy.special import expit, logit, softmax

from sklipschitz._engine.activations import (
    SBAF,
    Activation,
    AReLU,
    Identity,
    Logistic,
    ReLU,
    Tanh,
    _rescaled_sbaf,
    make_activation,
)
from sklipschitz._engine.loop import TrainState, _Fit
from sklipschitz._engine.losses import (
    BinomialLoss,
    MultinomialLoss,
    SmoothBinaryQuantileLoss,
)
from sklipschitz._engine.updates import Nesterov

Z = np.array([-800.0, -40.0, -7.5, -2.0, -0.3, 0.0, 0.3, 0.7, 2.0, 7.5, 40.0, 800.0])
DTYPES = [np.float64, np.float32]


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


def _buffers(z, dtype):
    z = np.asarray(z, dtype=dtype).copy()
    # poison the outputs: every entry must be written
    out, deriv, scratch = (np.full_like(z, np.nan) for _ in range(3))
    return z, out, deriv, scratch


# ---------------------------------------------------------------- references


def sbaf_ref(z, k, alpha, rescaled):
    """SBAF unit and its derivative in z, in float64 (log-space for the powers)."""
    z = np.asarray(z, dtype=np.float64)
    x = expit(z)
    # log(x^a (1-x)^(1-a)) with log x = -log(1 + e^-z), log(1-x) = -log(1 + e^z)
    logt = -alpha * np.logaddexp(0.0, -z) - (1.0 - alpha) * np.logaddexp(0.0, z)
    y = 1.0 / (1.0 + k * np.exp(logt))
    d = y * (1.0 - y) * (x - alpha)
    if rescaled:
        y_min = 1.0 / (1.0 + k * alpha**alpha * (1.0 - alpha) ** (1.0 - alpha))
        y = (y - y_min) / (1.0 - y_min)
        d = d / (1.0 - y_min)
    return y, d


def fd(f, z, h=1e-6):
    return (f(z + h) - f(z - h)) / (2 * h)


def test_sbaf_reference_matches_finite_differences():
    z = np.linspace(-6, 6, 25)
    for k, alpha, rescaled in [(0.91, 0.5, False), (1.7, 0.5, True), (0.6, 0.3, True)]:
        _, d = sbaf_ref(z, k, alpha, rescaled)
        np.testing.assert_allclose(
            d, fd(lambda t: sbaf_ref(t, k, alpha, rescaled)[0], z), rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- base class


def test_base_max_slope_is_the_bound_or_not_implemented():
    assert Logistic().max_slope(np.array([0.2, 0.9])) == 0.25
    assert Tanh().max_slope(np.array([5.0])) == 1.0
    assert ReLU().max_slope(np.array([])) == 1.0
    assert SBAF(0.91, 0.5).max_slope(np.array([0.9])) == SBAF(0.91, 0.5).slope_bound
    with pytest.raises(NotImplementedError):
        Activation().max_slope(np.array([1.0]))
    with pytest.raises(NotImplementedError):
        SBAF(input_map="clip").max_slope(np.array([0.5]))


class _Square(Activation):
    """A unit with only value and derivative: the base kernels apply."""

    def value(self, z):
        return z * z

    def derivative(self, z, a):
        return 2.0 * z + 0.0 * a


@pytest.mark.parametrize("dtype", DTYPES)
def test_base_forward_train_and_value_into(dtype):
    z0 = np.array([-3.0, -0.5, 0.0, 1.5, 4.0])
    z, out, deriv, scratch = _buffers(z0, dtype)
    a, d = _Square().forward_train(z, out, deriv, scratch)
    assert a is out and d is deriv
    np.testing.assert_array_equal(out, (z0 * z0).astype(dtype))
    np.testing.assert_array_equal(deriv, (2 * z0).astype(dtype))
    z = z0.astype(dtype)
    r = _Square().value_into(z, np.empty_like(z))
    assert r is z
    np.testing.assert_array_equal(z, (z0 * z0).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("unit", [SBAF(0.7, 0.3), SBAF(1.3, 0.8, output="rescaled")])
def test_base_kernels_through_uneven_sbaf(unit, dtype):
    z, out, deriv, scratch = _buffers(Z, dtype)
    a, d = unit.forward_train(z, out, deriv, scratch)
    assert a is out and d is deriv
    y, dy = sbaf_ref(Z, unit.k, unit.alpha, unit.output == "rescaled")
    np.testing.assert_allclose(out, y, **_tol(dtype))
    np.testing.assert_allclose(deriv, dy, **_tol(dtype))
    z = Z.astype(dtype)
    r = unit.value_into(z, np.full_like(z, np.nan))
    assert r is z
    np.testing.assert_allclose(z, y, **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_base_kernels_through_clipped_sbaf(dtype):
    unit = SBAF(0.91, 0.5, input_map="clip")
    z0 = np.array([-1.0, 0.0, 0.1, 0.5, 0.8, 1.0, 2.0])
    z, out, deriv, scratch = _buffers(z0, dtype)
    a, d = unit.forward_train(z, out, deriv, scratch)
    assert a is out and d is deriv
    x = np.clip(z0, 1e-7, 1 - 1e-7)
    y = 1.0 / (1.0 + 0.91 * np.sqrt(x * (1 - x)))
    inside = (z0 > 1e-7) & (z0 < 1 - 1e-7)
    dy = np.where(inside, y * (1 - y) * (x - 0.5) / (x * (1 - x)), 0.0)
    np.testing.assert_allclose(out, y, **_tol(dtype))
    np.testing.assert_allclose(deriv, dy, **_tol(dtype))
    z = z0.astype(dtype)
    assert unit.value_into(z, np.empty_like(z)) is z
    np.testing.assert_allclose(z, y, **_tol(dtype))


# ---------------------------------------------------------------- simple units


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_kernels(dtype):
    z, out, deriv, scratch = _buffers(Z, dtype)
    a, d = ReLU().forward_train(z, out, deriv, scratch)
    assert a is z and d is deriv  # in place in z
    np.testing.assert_array_equal(a, np.maximum(Z, 0).astype(dtype))
    np.testing.assert_array_equal(d, (Z > 0).astype(dtype))  # slope 0 at the kink
    assert d.dtype == dtype
    z = np.array([-1.0, 0.0, 0.25, 3.0], dtype=dtype)
    assert ReLU().value_into(z, np.empty_like(z)) is z
    np.testing.assert_array_equal(z, np.array([0.0, 0.0, 0.25, 3.0], dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_kernels(dtype):
    z, out, deriv, scratch = _buffers(Z, dtype)
    a, d = Tanh().forward_train(z, out, deriv, scratch)
    assert a is out and d is deriv
    np.testing.assert_allclose(a, np.tanh(Z), **_tol(dtype))
    np.testing.assert_allclose(d, 1 / np.cosh(np.clip(Z, -300, 300)) ** 2, **_tol(dtype))
    np.testing.assert_allclose(d[2:-2], fd(np.tanh, Z[2:-2]), rtol=1e-5, atol=1e-9 if dtype == np.float64 else 1e-6)
    np.testing.assert_array_equal(z, Z.astype(dtype))  # input left alone
    z = Z.astype(dtype)
    assert Tanh().value_into(z, np.empty_like(z)) is z
    np.testing.assert_allclose(z, np.tanh(Z), **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_logistic_kernels(dtype):
    z, out, deriv, scratch = _buffers(Z, dtype)
    a, d = Logistic().forward_train(z, out, deriv, scratch)
    assert a is out and d is deriv
    np.testing.assert_allclose(a, expit(Z), **_tol(dtype))
    ref = np.exp(-np.abs(Z)) / (1 + np.exp(-np.abs(Z))) ** 2
    np.testing.assert_allclose(d, ref, **_tol(dtype))
    assert d[5] == 0.25
    np.testing.assert_array_equal(z, Z.astype(dtype))
    z = Z.astype(dtype)
    assert Logistic().value_into(z, np.empty_like(z)) is z
    np.testing.assert_allclose(z, expit(Z), **_tol(dtype))


# ---------------------------------------------------------------- SBAF, alpha = 1/2


def test_even_logistic_flag():
    assert SBAF()._even_logistic()
    assert SBAF(2.0, 0.5, output="rescaled")._even_logistic()
    assert not SBAF(0.91, 0.5, input_map="clip")._even_logistic()
    assert not SBAF(0.91, 0.3)._even_logistic()
    assert not SBAF(0.91, 0.7, input_map="clip")._even_logistic()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [0.91, 1.7])
def test_even_q(k, dtype):
    unit = SBAF(k, 0.5)
    z = Z.astype(dtype)
    scratch = np.full_like(z, np.nan)
    q, den = unit._even_q(z, scratch)
    assert q is z and den is scratch
    s = np.exp(-np.abs(Z) / 2)
    ref_den = 1 + s * s + k * s
    np.testing.assert_allclose(den, ref_den, **_tol(dtype))
    np.testing.assert_allclose(q, k * s / ref_den, **_tol(dtype))
    # y = 1 - q is the unit's value
    np.testing.assert_allclose(1 - q.astype(np.float64), sbaf_ref(Z, k, 0.5, False)[0],
                               **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,rescaled", [(0.91, False), (0.91, True), (1.7, False), (0.4, True)])
def test_even_sbaf_kernels(k, rescaled, dtype):
    unit = SBAF(k, 0.5, output="rescaled" if rescaled else "raw")
    y, dy = sbaf_ref(Z, k, 0.5, rescaled)
    z, out, deriv, scratch = _buffers(Z, dtype)
    a, d = unit.forward_train(z, out, deriv, scratch)
    assert a is out and d is deriv
    np.testing.assert_array_equal(z, Z.astype(dtype))  # input left alone
    np.testing.assert_allclose(a, y, **_tol(dtype))
    np.testing.assert_allclose(d, dy, **_tol(dtype))
    mid = (Z != 0) & (np.abs(Z) < 100)  # the slope underflows to 0 beyond
    assert d[5] == 0.0 and np.all(np.sign(d[mid]) == np.sign(Z[mid]))
    # and the slow path of the same unit
    np.testing.assert_allclose(unit.value(Z), y, rtol=1e-12, atol=1e-15)
    z = Z.astype(dtype)
    r = unit.value_into(z, np.full_like(z, np.nan))
    assert r is z
    np.testing.assert_allclose(z, y, **_tol(dtype))
    if rescaled:
        assert abs(y[5]) < 1e-15 and np.all(y >= -1e-15)  # 0 at its minimum z = 0


# ---------------------------------------------------------------- A-ReLU


def arelu_ref(z, k, n):
    zp = np.maximum(z, 0.0)
    return k * zp**n, np.where(z > 0, k * n * zp ** (n - 1), 0.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,n", [(0.54, 1.3), (0.7, 2.0), (1.5, 1.0)])
def test_arelu_kernels(k, n, dtype):
    z0 = np.array([-5.0, -0.2, 0.0, 0.3, 0.8, 1.0, 2.5, 40.0])
    unit = AReLU(k, n)
    y, dy = arelu_ref(z0, k, n)
    z, out, deriv, scratch = _buffers(z0, dtype)
    a, d = unit.forward_train(z, out, deriv, scratch)
    assert d is deriv
    assert a is (z if n == 1.0 else out)
    np.testing.assert_allclose(a, y, **_tol(dtype))
    np.testing.assert_allclose(d, dy, **_tol(dtype))
    inner = z0 > 0.1
    np.testing.assert_allclose(dy[inner], fd(lambda t: arelu_ref(t, k, n)[0], z0[inner]),
                               rtol=1e-6)
    z = z0.astype(dtype)
    assert unit.value_into(z, np.empty_like(z)) is z
    np.testing.assert_allclose(z, y, **_tol(dtype))


@pytest.mark.parametrize("k,n", [(0.54, 1.3), (0.7, 2.0), (1.5, 1.0)])
def test_arelu_max_slope_is_the_grid_maximum(k, n):
    unit = AReLU(k, n)
    for top in (0.4, 3.0, 25.0):
        z = np.linspace(-2.0, top, 2001)
        a, d = arelu_ref(z, k, n)
        assert unit.max_slope(a) == pytest.approx(d.max(), rel=1e-12)
        assert unit.max_slope(a.reshape(-1, 3) if a.size % 3 == 0 else a[None]) == \
            pytest.approx(d.max(), rel=1e-12)
    # nothing positive: the slope at 0
    assert unit.max_slope(np.zeros(4)) == (k if n == 1.0 else 0.0)
    assert unit.max_slope(np.array([])) == (k if n == 1.0 else 0.0)
    assert unit.max_slope(np.array([-0.5])) == (k if n == 1.0 else 0.0)
    assert unit.max_slope(np.array([1.0, np.inf])) == math.inf
    assert unit.max_slope(np.array([1.0, np.nan])) == math.inf


# ---------------------------------------------------------------- registry


def test_rescaled_sbaf_unit_and_its_range_check():
    unit = _rescaled_sbaf(1.7, 0.3)
    assert isinstance(unit, SBAF)
    assert (unit.k, unit.alpha, unit.input_map, unit.output) == (1.7, 0.3, "logistic", "rescaled")
    y, _ = sbaf_ref(Z, 1.7, 0.3, True)
    np.testing.assert_allclose(unit.value(Z), y, rtol=1e-12, atol=1e-15)
    # range width 1 - 1/(1 + k/2) ~ k/2 for alpha = 1/2: the limit is 1e-9
    _rescaled_sbaf(1e-8, 0.5)
    _rescaled_sbaf(2.2e-9, 0.5)
    with pytest.raises(ValueError, match=r"^sbaf_k=1.8e-09 is too small: the SBAF unit's range "
                       r"\[y_min, 1\] has width 9e-10, which cannot be rescaled onto \[0, 1\]; "
                       r"use sbaf_k >= 1e-8\.$"):
        _rescaled_sbaf(1.8e-9, 0.5)
    # the limit is on the range of this alpha: 1 - y_min ~ k a^a (1 - a)^(1 - a)
    c = 0.1**0.1 * 0.9**0.9
    _rescaled_sbaf(1.2e-9 / c, 0.1)
    with pytest.raises(ValueError, match=r"has width 8e-10, "):
        _rescaled_sbaf(0.8e-9 / c, 0.1)
    with pytest.raises(ValueError, match="width 0, "):
        _rescaled_sbaf(0.0, 0.5)


def test_make_activation():
    assert isinstance(make_activation("relu"), ReLU)
    assert isinstance(make_activation("identity", sbaf_k=3.0), Identity)
    unit = make_activation("sbaf", sbaf_k=0.6, sbaf_alpha=0.3, arelu_n=2.0)
    assert (unit.k, unit.alpha, unit.output) == (0.6, 0.3, "rescaled")
    unit = make_activation("arelu", arelu_k=0.8, arelu_n=1.7)
    assert (unit.k, unit.n) == (0.8, 1.7)
    with pytest.raises(ValueError, match=r"^Unknown activation 'softplus'; choose one of "
                       r"\['arelu', 'identity', 'logistic', 'relu', 'sbaf', 'tanh'\]\.$") as info:
        make_activation("softplus")
    assert info.value.__cause__ is None and info.value.__suppress_context__


# ---------------------------------------------------------------- losses


def test_binomial_constant_raw_is_the_logit_of_the_weighted_mean():
    y = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    y[:, 0] = [1, 0, 1, 1]
    w = np.array([1.0, 3.0, 0.5, 2.0])
    got = BinomialLoss().constant_raw(y, w)
    p1 = (1.0 + 0.5 + 2.0) / 6.5
    np.testing.assert_allclose(got[0], logit(p1), rtol=1e-14)
    # columns of one class: clipped at 1e-12 from 0 and 1
    np.testing.assert_allclose(got[1:], [logit(1e-12), logit(1 - 1e-12)], rtol=1e-6)
    np.testing.assert_allclose(BinomialLoss().constant_raw(y[:, 0], w), logit(p1), rtol=1e-14)
    # the constant minimises the weighted loss: zero mean gradient
    g = BinomialLoss().gradient(y[:, :1], np.full((4, 1), got[0]))
    assert abs(float(w @ g[:, 0])) < 1e-13


def test_multinomial_constant_raw_is_the_centred_log_of_class_shares():
    labels = np.array([0, 2, 2, 1, 2, 0])
    y = np.eye(4)[labels]  # class 3 absent
    w = np.array([1.0, 2.0, 0.5, 1.5, 1.0, 3.0])
    got = MultinomialLoss().constant_raw(y, w)
    shares = np.array([4.0, 1.5, 3.5, 0.0]) / 9.0
    logp = np.log(np.maximum(shares, 1e-12))
    np.testing.assert_allclose(got, logp - logp.mean(), rtol=1e-14)
    assert abs(got.sum()) < 1e-12
    np.testing.assert_allclose(softmax(got)[:3], shares[:3], rtol=1e-10)
    # every class present: softmax gives the shares exactly (up to rounding)
    got = MultinomialLoss().constant_raw(y[:, :3], w)
    np.testing.assert_allclose(softmax(got), shares[:3], rtol=1e-14)
    assert abs(got.sum()) < 1e-13


def test_binary_quantile_take_and_constant_raw():
    levels = np.array([0.1, 0.3, 0.5, 0.9])
    loss = SmoothBinaryQuantileLoss(levels)
    for keep in (np.array([False, True, False, True]), np.array([2, 0])):
        sub = loss.take(keep)
        assert isinstance(sub, SmoothBinaryQuantileLoss)
        np.testing.assert_array_equal(sub.quantile, levels[keep])
        ref = SmoothBinaryQuantileLoss(levels[keep])
        np.testing.assert_array_equal(sub.lipschitz_per_output, ref.lipschitz_per_output)
        assert sub.curvature == ref.curvature
    two = SmoothBinaryQuantileLoss([0.2, 0.7]).take(np.array([False, True]))
    np.testing.assert_array_equal(two.quantile, [0.7])
    one = SmoothBinaryQuantileLoss(0.2).take(np.array([True, False, True]))
    np.testing.assert_array_equal(one.quantile, [0.2])
    assert one.lipschitz == SmoothBinaryQuantileLoss(0.2).lipschitz
    y = np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]], dtype=np.float32)
    c = loss.constant_raw(y, np.ones(2))
    assert c.shape == (3,) and c.dtype == np.float32
    np.testing.assert_array_equal(c, 0.0)
    c = loss.constant_raw(y.astype(np.float64).tolist(), np.ones(2))
    assert c.shape == (3,) and c.dtype == np.float64 and not c.any()


def test_nesterov_restrict_slices_the_columns():
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(3, 4)), rng.normal(size=4)]
    upd = Nesterov()
    state = upd.init(params)
    state["t"] = np.array([1.0, 2.5, 3.0, 4.5])
    state["x"] = [rng.normal(size=(3, 4)), rng.normal(size=4)]
    for keep in (np.array([True, False, True, True]), np.array([3, 1])):
        got = upd.restrict(state, keep)
        assert set(got) == {"x", "t"} and len(got["x"]) == 2
        np.testing.assert_array_equal(got["x"][0], state["x"][0][:, keep])
        np.testing.assert_array_equal(got["x"][1], state["x"][1][keep])
        np.testing.assert_array_equal(got["t"], state["t"][keep])


# ---------------------------------------------------------------- the monotone undo


class _Controlled:
    """A problem whose objective is ``f(W, b)``; calls are recorded."""

    def __init__(self, f, n_samples=4):
        self.f, self.n_samples, self.calls = f, n_samples, []

    def objective(self, coefs, intercepts):
        self.calls.append(([c.copy() for c in coefs], [b.copy() for b in intercepts]))
        return self.f(coefs, intercepts)


def _fit(problem, batch_size, update):
    W0, b0 = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([5.0, 6.0])
    state = TrainState(coefs=[W0.copy()], intercepts=[b0.copy()])
    kw = dict(batch_size=batch_size, incremental=True, monotone=True, freezing=None,
              update=update)
    fit = _Fit(problem, state, kw)
    # a step of the call
    fit.params[0][...] += 0.5
    fit.params[1][...] -= 0.25
    state.opt_state = sentinel = object()
    return fit, state, W0, b0, sentinel


def _undone(state, W0, b0):
    if np.array_equal(state.coefs[0], W0):
        np.testing.assert_array_equal(state.intercepts[0], b0)
        return True
    np.testing.assert_array_equal(state.coefs[0], W0 + 0.5)
    np.testing.assert_array_equal(state.intercepts[0], b0 - 0.25)
    return False


@pytest.mark.parametrize("start", [10.0, -10.0, 1e-300, 0.0])
def test_keep_start_if_worse_full_batch_tolerance(start):
    # full batch: the start is the first batch's loss; the end is the objective
    # at the weights reached, kept up to 1e-12 relative above the start
    for end, undo in [(start, False), (start - abs(start), False),
                      (start + 1e-12 * abs(start), False),  # the limit itself is kept
                      (start + 0.5e-12 * abs(start), False),
                      (start + 2e-12 * abs(start) + 1e-320, True), (start + 1.0, True),
                      (math.nan, True), (math.inf, True)]:
        problem = _Controlled(lambda c, i, end=end: end)
        fit, state, W0, b0, sentinel = _fit(problem, None, Nesterov())
        fit.first_value = start
        fit._keep_start_if_worse()
        assert len(problem.calls) == 1  # the end only
        np.testing.assert_array_equal(problem.calls[0][0][0], W0 + 0.5)
        np.testing.assert_array_equal(problem.calls[0][1][0], b0 - 0.25)
        assert _undone(state, W0, b0) == undo, (start, end)
        if undo:
            # the update's state restarts from the restored weights
            np.testing.assert_array_equal(state.opt_state["x"][0], W0)
            np.testing.assert_array_equal(state.opt_state["x"][1], b0)
            np.testing.assert_array_equal(state.opt_state["t"], [1.0, 1.0])
            assert state.coefs[0] is fit.params[0]  # restored in place
        else:
            assert state.opt_state is sentinel


def test_keep_start_if_worse_mini_batch_measures_the_start():
    # mini-batches: the start is the objective at the call's start weights (the
    # first batch's loss is ignored); objective = sum(W) + 10 sum(b)
    def f(coefs, intercepts):
        return float(coefs[0].sum() + 10.0 * intercepts[0].sum())

    problem = _Controlled(f)
    fit, state, W0, b0, sentinel = _fit(problem, 2, Nesterov())
    fit.first_value = 1e9  # would keep the step if used
    fit._keep_start_if_worse()
    (c0, i0), (c1, i1) = problem.calls
    np.testing.assert_array_equal(c0[0], W0)
    np.testing.assert_array_equal(i0[0], b0)
    np.testing.assert_array_equal(c1[0], W0 + 0.5)
    np.testing.assert_array_equal(i1[0], b0 - 0.25)
    # end = start + 4 * 0.5 - 10 * 2 * 0.25 = start - 3: kept
    assert not _undone(state, W0, b0) and state.opt_state is sentinel

    def g(coefs, intercepts):
        return float(coefs[0].sum() - 10.0 * intercepts[0].sum())

    problem = _Controlled(g)
    fit, state, W0, b0, sentinel = _fit(problem, 2, Nesterov())
    fit.first_value = -1e9  # would undo the step if used ... and so does the end
    fit._keep_start_if_worse()
    assert _undone(state, W0, b0)
    np.testing.assert_array_equal(state.opt_state["x"][0], W0)
    np.testing.assert_array_equal(state.opt_state["t"], [1.0, 1.0])

    problem = _Controlled(g)
    fit, state, W0, b0, sentinel = _fit(problem, 2, Nesterov())
    fit.first_value = 1e9
    fit._keep_start_if_worse()  # end = start + 2 + 5: undone, whatever first_value
    assert _undone(state, W0, b0)
