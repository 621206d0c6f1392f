"""Linear models trained at a learning rate computed from the data.

- :class:`LipschitzRegressor` -- linear regression under the squared,
  absolute, quantile (pinball) and log-cosh losses;
- :class:`LipschitzQuantileClassifier` -- the smooth binary quantile
  classifier (sBQC) over a grid of levels, with probabilities and confidence;
- :class:`LipschitzRegressorCV` and :func:`lipschitz_path` -- the L1 /
  elastic-net regularisation path and the choice of ``alpha`` by
  cross-validation.
"""

from ._cv import LipschitzRegressorCV, lipschitz_path
from ._quantile_classifier import LipschitzQuantileClassifier
from ._regressor import LipschitzRegressor

__all__ = ["LipschitzRegressor", "LipschitzRegressorCV", "LipschitzQuantileClassifier",
           "lipschitz_path"]
