"""Scale-out on dask: the exact solver on dask arrays, dask-ml's Incremental,
joblib's dask backend, a distributed constant.

Needs the optional ``[dask]`` extra (dask, distributed, dask-ml); skipped
without it.  Runs on an in-process ``LocalCluster(n_workers=2,
processes=False)``, and the exact fit also on dask's local schedulers.

Note: dask-ml 2025.1.0's ``r2_score`` fails with dask >= 2025.2
(dask/dask-ml#1012, fixed upstream but not released), and it is the default
scoring of ``Incremental`` for regressors; the tests pass
``scoring='neg_mean_squared_error'``.
"""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")

import joblib  # noqa: E402
from dask import delayed  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402

from sklipschitz import LipschitzRegressor  # noqa: E402
from sklipschitz._engine.lipschitz import gram_top_eigenvalue, mean_row_norm  # noqa: E402

try:
    from sklipschitz import LipschitzQuantileClassifier
except ImportError:  # not exported yet
    from sklipschitz import LipschitzQuantileClassifier

Incremental = dask_ml_wrappers.Incremental
N, D, CHUNK = 2000, 4, 500


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((N, D))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 1.0 + rng.standard_t(3, N)
    return X, y


def blocks(A):
    return [A[i:i + CHUNK] for i in range(0, A.shape[0], CHUNK)]


def test_incremental_regressor_feeds_blocks_to_partial_fit(client, data):
    X, y = data
    dX = da.from_array(X, chunks=(CHUNK, D))
    dy = da.from_array(y, chunks=CHUNK)
    inc = Incremental(LipschitzRegressor(), scoring="neg_mean_squared_error",
                      shuffle_blocks=False)
    for _ in range(3):
        inc.partial_fit(dX, dy)
    # the same steps as partial_fit on the blocks in order, on one machine
    ref = LipschitzRegressor()
    for _ in range(3):
        for Xb, yb in zip(blocks(X), blocks(y)):
            ref.partial_fit(Xb, yb)
    np.testing.assert_allclose(inc.estimator_.coef_, ref.coef_, rtol=1e-12)
    assert inc.estimator_.intercept_ == pytest.approx(ref.intercept_, rel=1e-12)
    assert inc.estimator_.lipschitz_constant_ == ref.lipschitz_constant_
    # predictions are lazy and blockwise
    pred = inc.predict(dX)
    assert isinstance(pred, da.Array)
    np.testing.assert_allclose(pred.compute(), ref.predict(X), rtol=1e-12)
    mse = -inc.score(dX, dy)
    assert mse == pytest.approx(np.mean((y - ref.predict(X)) ** 2), rel=1e-10)
    # close to the in-memory least-squares fit (constant steps over chunks
    # reach a neighbourhood of the optimum, see test_out_of_core.py)
    full = LipschitzRegressor().fit(X, y)
    full_mse = np.mean((y - full.predict(X)) ** 2)
    assert full_mse <= mse < 1.01 * full_mse


def test_incremental_quantile_classifier_with_classes(client, data):
    X, _ = data
    rng = np.random.default_rng(1)
    labels = np.where(X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(N) > 0, "yes", "no")
    dX = da.from_array(X, chunks=(CHUNK, D))
    dy = da.from_array(labels, chunks=CHUNK)
    params = dict(quantile=0.5, random_state=0)
    inc = Incremental(LipschitzQuantileClassifier(**params), scoring="accuracy",
                      shuffle_blocks=False)
    for _ in range(2):
        inc.partial_fit(dX, dy, classes=["no", "yes"])
    ref = LipschitzQuantileClassifier(**params)
    for _ in range(2):
        for Xb, yb in zip(blocks(X), blocks(labels)):
            ref.partial_fit(Xb, yb, classes=["no", "yes"])
    np.testing.assert_array_equal(inc.estimator_.classes_, ["no", "yes"])
    np.testing.assert_allclose(inc.estimator_.coef_, ref.coef_, rtol=1e-12)
    pred = inc.predict(dX).compute()
    np.testing.assert_array_equal(pred, ref.predict(X))
    assert np.mean(pred == labels) > 0.75
    proba = inc.predict_proba(dX).compute()
    np.testing.assert_allclose(proba, ref.predict_proba(X), rtol=1e-12)


def test_grid_search_with_joblib_dask_backend(client, data):
    X, y = data
    grid = {"alpha": [0.0, 0.1, 1.0], "loss": ["squared_error", "quantile"]}
    cv = KFold(3, shuffle=True, random_state=0)
    local = GridSearchCV(LipschitzRegressor(), grid, cv=cv).fit(X, y)
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        remote = GridSearchCV(LipschitzRegressor(), grid, cv=cv, n_jobs=-1).fit(X, y)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"], rtol=1e-10)
    # the 18 fits ran as tasks on the cluster (joblib batches them)
    assert len(stream.data) > 0
    assert {t["worker"] for t in stream.data} <= set(client.scheduler_info()["workers"])


def _partials(Xp, sp):
    """What one worker sends: X~'SX~ of its rows, sum(s), sum_i s_i ||x~_i||."""
    Xt = np.hstack([Xp, np.ones((Xp.shape[0], 1))])
    return Xt.T @ (Xt * sp[:, None]), sp.sum(), sp @ np.sqrt(np.einsum("ij,ij->i", Xt, Xt))


def _add(a, b):
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def test_distributed_constant_equals_single_machine_constant(client, data):
    X, _ = data
    sw = np.random.default_rng(2).uniform(0.5, 2.0, N)
    dX = da.from_array(X, chunks=(300, D))  # uneven partitions
    dsw = da.from_array(sw, chunks=300)
    parts = [delayed(_partials)(xb, sb)
             for xb, sb in zip(dX.to_delayed().ravel(), dsw.to_delayed().ravel())]
    while len(parts) > 1:  # tree reduction, as dask's own reductions do
        parts = [delayed(_add)(*parts[i:i + 2]) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    gram, total, norms = client.compute(parts[0]).result()
    lam = np.linalg.eigvalsh(gram / total)[-1]
    assert lam == pytest.approx(gram_top_eigenvalue(X, sw, True), rel=1e-12)
    assert norms / total == pytest.approx(mean_row_norm(X, sw, True), rel=1e-12)


# -- the exact solver on dask arrays ------------------------------------------

LOSSES = ["squared_error", "absolute_error", "quantile", "log_cosh"]


def _dask_inputs(X, y, sw):
    """Uneven chunks of X, one of a single row; y and the weights chunked otherwise."""
    dX = da.from_array(X, chunks=((600, 1, 700, 699), (2, 2)))
    return dX, da.from_array(y, chunks=500), da.from_array(sw, chunks=300)


def _assert_same_fit(est, ref, X, dX):
    assert est.solver_ == "exact" and est.certified_ is True and ref.certified_ is True
    assert est.loss_ == pytest.approx(ref.loss_, rel=1e-9)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-9)
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-7, abs=1e-9)
    assert est.lipschitz_constant_ == pytest.approx(ref.lipschitz_constant_, rel=1e-12)
    assert isinstance(est.coef_, np.ndarray) and est.n_features_in_ == D
    pred = est.predict(dX)
    assert isinstance(pred, da.Array)
    np.testing.assert_allclose(pred.compute(), ref.predict(X), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("loss", LOSSES)
def test_exact_fit_on_dask_arrays_is_the_in_memory_fit(client, data, loss):
    import dask

    X, y = data
    sw = np.random.default_rng(4).uniform(0, 2, N)
    sw[::11] = 0.0
    params = dict(loss=loss, quantile=0.2, alpha=0.01)
    ref = LipschitzRegressor(**params).fit(X, y, sample_weight=sw)
    dX, dy, dsw = _dask_inputs(X, y, sw)
    # dask's own scheduler in this process (fast), not the cluster's
    with distributed.get_task_stream(client) as stream, \
            dask.config.set(scheduler="synchronous"):
        est = LipschitzRegressor(**params).fit(dX, dy, sample_weight=dsw)
        _assert_same_fit(est, ref, X, dX)
    assert not stream.data


def test_exact_fit_on_dask_arrays_runs_on_the_cluster(client, data):
    X, y = data
    sw = np.random.default_rng(5).uniform(0, 2, N)
    params = dict(loss="quantile", quantile=0.9)
    ref = LipschitzRegressor(**params).fit(X, y, sample_weight=sw)
    dX, dy, dsw = _dask_inputs(X, y, sw)
    with distributed.get_task_stream(client) as stream:
        est = LipschitzRegressor(**params).fit(dX, dy, sample_weight=dsw)
    _assert_same_fit(est, ref, X, dX)
    # every pass ran as tasks (one per block) on the cluster's workers
    assert len(stream.data) >= 4 * est.n_passes_
    assert {t["worker"] for t in stream.data} <= set(client.scheduler_info()["workers"])


@pytest.mark.parametrize("loss", ["quantile", "squared_error"])
def test_exact_fit_on_persisted_blocks_moves_no_block(client, data, loss):
    """Blocks spread over the workers and persisted there: every task of the
    fit runs on the worker that holds its block, and the pieces of the
    n-vectors are sent there, so no data moves between workers."""
    import dask

    X, y = data
    sw = np.random.default_rng(6).uniform(0.5, 2, N)
    workers = sorted(client.scheduler_info()["workers"])
    # (the scattered blocks are held until the persisted array is computed)
    futs = [client.scatter(X[i:i + CHUNK], workers=[workers[k % 2]])
            for k, i in enumerate(range(0, N, CHUNK))]
    parts = [da.from_delayed(delayed(f), (min(CHUNK, N - i), D), X.dtype)
             for f, i in zip(futs, range(0, N, CHUNK))]
    (dX,) = dask.persist(da.concatenate(parts))
    distributed.wait(dX)
    del futs, parts
    holders = {w for ks in client.has_what().values() for w in ks}
    assert len(holders) > 1 and all(client.has_what().values())
    params = dict(loss=loss, quantile=0.8)
    ref = LipschitzRegressor(**params).fit(X, y, sample_weight=sw)
    with distributed.get_task_stream(client) as stream:
        est = LipschitzRegressor(**params).fit(dX, y, sample_weight=sw)
    _assert_same_fit(est, ref, X, dX)
    # (each pass: a task per block, on the cluster)
    assert len(stream.data) >= 3 * est.n_passes_
    moved = [t["key"] for t in stream.data
             if any(s["action"] == "transfer" for s in t["startstops"])]
    assert not moved


@pytest.mark.parametrize("scheduler", ["threads", "synchronous"])
def test_exact_fit_on_dask_runs_on_the_active_scheduler(data, scheduler):
    import dask

    X, y = data
    Y = np.column_stack([y, X[:, 0] - y]).astype(np.float32)
    ref = LipschitzRegressor(loss="quantile", quantile=0.7).fit(X.astype(np.float32), Y)
    with dask.config.set(scheduler=scheduler):
        est = LipschitzRegressor(loss="quantile", quantile=0.7, block_rows=450).fit(
            da.from_array(X.astype(np.float32), chunks=(CHUNK, D)), Y)
        pred = est.predict(da.from_array(X, chunks=(CHUNK, D))).compute()
    assert est.coef_.dtype == np.float32 and est.certified_
    assert est.loss_ == pytest.approx(ref.loss_, rel=1e-6)
    assert pred.shape == (N, 2)
    np.testing.assert_allclose(pred, ref.predict(X.astype(np.float32)), rtol=1e-5, atol=1e-5)


def test_exact_fit_on_dask_checks_every_block(data):
    X, y = data
    bad = X.copy()
    bad[1700, 3] = np.inf
    dX = da.from_array(bad, chunks=(CHUNK, D))
    with pytest.raises(ValueError, match=r"NaN or infinity .*row block 1500:2000"):
        LipschitzRegressor().fit(dX, y)
    with pytest.raises(ValueError, match="Input y contains NaN"):
        LipschitzRegressor().fit(da.from_array(X, chunks=(CHUNK, D)),
                                 da.from_array(np.where(np.arange(N) == 3, np.nan, y), chunks=CHUNK))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LipschitzRegressor().fit(da.from_array(X, chunks=(CHUNK, D)), y[:10])
    with pytest.raises(ValueError, match="mini-batch|batch_size.*Use partial_fit"):
        LipschitzRegressor(batch_size=64).fit(da.from_array(X, chunks=(CHUNK, D)), y)
    import scipy.sparse as sp

    sparse_blocks = da.from_array(X, chunks=(CHUNK, D)).map_blocks(sp.csr_matrix)
    with pytest.raises(TypeError, match="dask arrays of numpy blocks.*partial_fit"):
        LipschitzRegressor().fit(sparse_blocks, y)
    est = LipschitzRegressor().fit(da.from_array(X, chunks=(CHUNK, D)), y)
    with pytest.raises(ValueError, match="expecting 4 features"):
        est.predict(da.from_array(X[:, :3], chunks=(CHUNK, 3)))


def _readme_dask_snippets():
    """The python blocks of the README's dask section."""
    import pathlib
    import re

    text = (pathlib.Path(__file__).parents[1] / "README.md").read_text()
    start = text.index("<!-- dask example -->")
    end = text.index("<!-- end dask example -->")
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)


def test_readme_dask_example_runs_as_written(client):
    snippets = _readme_dask_snippets()
    assert len(snippets) == 2
    scope = {}
    for code in snippets:
        exec(compile(code, "README.md", "exec"), scope)
    reg = scope["reg"]
    assert reg.certified_ and reg.solver_ == "exact"
    # the score printed is the in-memory score of the same model
    X, y = scope["X"].compute(), scope["y"].compute()
    assert scope["score"] == pytest.approx(reg.score(X, y), rel=1e-12)
    assert np.isfinite(scope["inc_score"])
