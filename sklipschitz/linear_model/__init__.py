"""Linear models trained at a learning rate computed from the data.

- :class:`LipschitzRegressor` -- linear regression under the squared,
  absolute, quantile (pinball) and log-cosh losses;
- :class:`LipschitzQuantileClassifier` -- the smooth binary quantile
  classifier (sBQC) over a grid of levels, with probabilities and confidence.
"""

from ._quantile_classifier import LipschitzQuantileClassifier
from ._regressor import LipschitzRegressor

__all__ = ["LipschitzRegressor", "LipschitzQuantileClassifier"]
