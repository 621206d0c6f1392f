"""scikit-learn's estimator checks for every public estimator of the package.

Every expected failure carries its reason.
"""

import warnings

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklipschitz import LipschitzQuantileClassifier, LipschitzRegressor, LipschitzRegressorCV

MINIBATCH_REASON = (
    "mini-batch training shuffles the rows: weighting a sample is not the same random "
    "sequence of steps as repeating it"
)
LEVEL_REASON = (
    "with quantile != 0.5 the label is predicted at that level (p > 1 - quantile), "
    "not by the largest probability, by design"
)

ESTIMATORS = [
    LipschitzRegressor(),
    LipschitzRegressor(loss="quantile", quantile=0.3),
    LipschitzRegressor(loss="absolute_error"),
    LipschitzRegressor(loss="log_cosh", alpha=0.01),
    LipschitzRegressor(learning_rate="local", max_iter=5000, tol=1e-12),
    LipschitzRegressor(batch_size=16, random_state=0),
    LipschitzRegressor(solver="gd", max_iter=5000, tol=1e-12),
    LipschitzRegressor(alpha=0.01, penalty="elasticnet", l1_ratio=0.5),
    LipschitzRegressor(loss="quantile", alpha=0.01, penalty="l1"),
    LipschitzRegressor(alpha=0.01, penalty="l1", solver="gd", max_iter=2000, tol=1e-10),
    LipschitzRegressorCV(n_alphas=3, cv=2),
    LipschitzRegressorCV(loss="quantile", quantile=0.3, n_alphas=3, cv=2),
    LipschitzQuantileClassifier(),
    LipschitzQuantileClassifier(learning_rate="lipschitz", max_iter=100),
    LipschitzQuantileClassifier(quantile=0.3, quantile_grid=[0.1, 0.5, 0.9]),
    LipschitzQuantileClassifier(batch_size=16, random_state=0, max_iter=20),
    LipschitzQuantileClassifier(penalty="l1", alpha=0.01),
]


def _regressor_failures(est):
    failures = {}
    if getattr(est, "batch_size", None) is not None:
        failures["check_sample_weight_equivalence_on_dense_data"] = MINIBATCH_REASON
        failures["check_sample_weight_equivalence_on_sparse_data"] = MINIBATCH_REASON
    return failures


def _classifier_failures(est):
    failures = {}
    minibatch = est.batch_size is not None
    if minibatch:
        failures["check_sample_weight_equivalence_on_dense_data"] = MINIBATCH_REASON
        failures["check_sample_weight_equivalence_on_sparse_data"] = MINIBATCH_REASON
    if est.quantile != 0.5:
        failures["check_classifiers_train"] = LEVEL_REASON
    return failures


def expected_failures(est):
    if isinstance(est, LipschitzQuantileClassifier):
        return _classifier_failures(est)
    return _regressor_failures(est)


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)
