"""The exact finish of the pinball solver (``_exact.pinball.finish``): the
kept sets it solves, its report and its result, for mutants of the
mutation run (docs/testing.md, "Mutation testing").  The kept-set sizes
follow from the rule ``M = max(20 p, n // 50, 2 |zone|)``, doubled each
round, the whole data set once ``M >= n/2`` or after ``max_rounds``; the
optimum is HiGHS's vertex."""

import re

import numpy as np
import pytest

from sklipschitz._exact.design import Design
from sklipschitz._exact.pinball import finish
from sklipschitz._exact.problem import PinballProblem
from test_mutants_certificate import _data, _vertex

LINE = re.compile(r"^\[solve_linear\] finish round (\d+): kept (\d+) of (\d+), "
                  r"reduced (exact|inexact), certified=(True|False) \(violation (\S+)\)$")


def _setup(n, d, tau=0.3, seed=1, optimum=True):
    X, y = _data(n, d, seed)
    des = Design(X, np.full(n, 1.0 / n), True, True)
    pb = PinballProblem(des, y, tau, 0.0, 1.0, 1)
    if not optimum:
        return des, pb, None, None
    beta = _vertex(X, y, tau)
    w = beta[:d]
    b = des.centred_intercept(w, beta[d])
    return des, pb, w, b


def _report(capsys):
    lines = capsys.readouterr().out.splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    return [m.groups() for m in parsed]


def _pinball(pb, w, b):
    r = pb.des.residual(pb.y64, w, b)
    return float(np.mean(np.maximum(pb.tau * r, (pb.tau - 1) * r)))


@pytest.mark.parametrize("n, d, zone, kept", [
    (1000, 3, 0, 80),       # 20 p (p = 4 with the intercept)
    (1000, 3, 60, 120),     # twice the points in the zone
    (1000, 3, 250, 1000),   # M = 500 = n/2: the whole data set
])
def test_first_kept_set_and_the_certified_optimum(capsys, n, d, zone, kept):
    des, pb, w, b = _setup(n, d)
    r = des.residual(pb.y64, w, b)
    # a width with exactly `zone` points of |r| < mu/2 (4 or 2 zeros at the
    # vertex, the rest distinct)
    mu = 2 * np.sort(np.abs(r))[zone] if zone else 1e-12
    assert np.count_nonzero(np.abs(r) < 0.5 * mu) == (zone if zone else d + 1)
    w2, b2, certified, converged = finish(pb, w, b, r, mu)
    assert certified and converged
    ((rnd, k, nn, how, cert, viol),) = _report(capsys)
    assert (rnd, int(k), int(nn), how, cert) == ("0", kept, n, "exact", "True")
    assert float(viol) <= 1e-9
    np.testing.assert_allclose(w2, w, rtol=0, atol=1e-10)
    assert b2 == pytest.approx(b, abs=1e-10)
    assert pb.curve == [pytest.approx(_pinball(pb, w, b), rel=1e-12)]


def test_kept_sets_double_until_the_whole_data_set(capsys):
    n, d = 1000, 3
    des, pb, w_opt, b_opt = _setup(n, d)
    w0 = np.zeros(d)
    r = des.residual(pb.y64, w0, 0.0)
    w, b, certified, converged = finish(pb, w0, 0.0, r, 1e-12)
    rep = _report(capsys)
    # 80, 160, 320; then M = 640 >= n/2: the whole data set, certified
    assert [(int(x[0]), int(x[1]), x[3], x[4]) for x in rep] == [
        (0, 80, "exact", "False"), (1, 160, "exact", "False"),
        (2, 320, "exact", "False"), (3, 1000, "exact", "True")]
    assert all(float(x[5]) > 1e-6 for x in rep[:3]) and float(rep[3][5]) <= 1e-9
    assert certified and converged
    np.testing.assert_allclose(w, w_opt, rtol=0, atol=1e-9)
    assert b == pytest.approx(b_opt, abs=1e-9)
    # one objective value per round, the last the optimum
    assert len(pb.curve) == 4
    assert pb.curve[-1] == pytest.approx(_pinball(pb, w_opt, b_opt), rel=1e-12)
    assert min(pb.curve[:3]) > pb.curve[-1]


def test_max_rounds_bounds_the_enlargements_before_the_whole_data_set(capsys):
    # n // 50 = 100 > 20 p kept, doubled for max_rounds = 4 rounds, then all
    n, d = 5000, 3
    des, pb, _, _ = _setup(n, d, optimum=False)
    r = des.residual(pb.y64, np.zeros(d), 0.0)
    *_, certified, converged = finish(pb, np.zeros(d), 0.0, r, 1e-12)
    assert [int(x[1]) for x in _report(capsys)] == [100, 200, 400, 800, 5000]
    assert certified and converged
    des, pb, _, _ = _setup(n, d, optimum=False)
    *_, certified, converged = finish(pb, np.zeros(d), 0.0, r, 1e-12, max_rounds=2)
    assert [int(x[1]) for x in _report(capsys)] == [100, 200, 5000]
    assert certified and converged


def test_one_round_without_the_whole_data_set_returns_its_best_point(capsys):
    n, d = 1000, 3
    des, pb, w_opt, b_opt = _setup(n, d)
    r = des.residual(pb.y64, np.zeros(d), 0.0)
    w, b, certified, converged = finish(pb, np.zeros(d), 0.0, r, 1e-12,
                                        max_rounds=1, final_all=False)
    ((rnd, k, _, how, cert, viol),) = _report(capsys)
    assert (rnd, k, cert) == ("0", "80", "False") and float(viol) > 1e-6
    assert certified is False and converged is False
    # the point returned is the one of that round, its value recorded once
    assert pb.curve == [pytest.approx(_pinball(pb, w, b), rel=1e-12)]
    assert pb.curve[0] > _pinball(pb, w_opt, b_opt)


LEVEL = re.compile(r"^\[solve_linear\]   level 0: mu=(\S+) ")


@pytest.mark.parametrize("n, mu", [(1000, 0.3), (1000, 0.07), (30, 10.0), (8, 10.0)])
def test_reduced_solve_starts_where_an_eighth_of_the_kept_points_is_in_the_zone(capsys, n, mu):
    # the first reduced solve starts at mu_r = min(mu, 2 |r|_(j)), |r|_(j)
    # the j-th smallest (from 0) of the K kept points, j = max(K // 8, 2 p)
    # (at most K - 1); K = M, or n when M >= n/2
    d, p = 3, 4
    des, pb, _, _ = _setup(n, d, optimum=False)
    pb.verbose = 2
    r = des.residual(pb.y64, np.zeros(d), 0.0)
    a = np.sort(np.abs(r))
    M = max(20 * p, n // 50, 2 * int(np.count_nonzero(a < 0.5 * mu)))
    K = n if M >= 0.5 * n else M
    j = max(min(K // 8, K - 1), min(2 * p, K - 1))
    finish(pb, np.zeros(d), 0.0, r, mu, max_rounds=1, final_all=False)
    out = capsys.readouterr().out.splitlines()
    assert any(f"finish round 0: kept {K} of {n}," in line for line in out), out
    first = next(m for m in map(LEVEL.match, out) if m)
    assert float(first.group(1)) == pytest.approx(min(mu, 2 * a[j]), rel=1e-3)
