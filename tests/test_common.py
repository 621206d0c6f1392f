"""scikit-learn's estimator checks for every estimator of the package."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklipschitz import LipschitzRegressor

ESTIMATORS = [
    LipschitzRegressor(),
    LipschitzRegressor(loss="quantile", quantile=0.3),
    LipschitzRegressor(loss="absolute_error"),
    LipschitzRegressor(loss="log_cosh", alpha=0.01),
    LipschitzRegressor(learning_rate="local", max_iter=5000, tol=1e-12),
    LipschitzRegressor(batch_size=16, random_state=0),
]

MINIBATCH_REASON = (
    "mini-batch training shuffles the rows: weighting a sample is not the same "
    "random sequence of steps as repeating it, so the two fits differ by the "
    "sampling noise of SGD (full-batch fits pass this check)"
)


def expected_failures(estimator):
    failures = {}
    if getattr(estimator, "batch_size", None) is not None:
        failures["check_sample_weight_equivalence_on_dense_data"] = MINIBATCH_REASON
        failures["check_sample_weight_equivalence_on_sparse_data"] = MINIBATCH_REASON
    return failures


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
