"""sklipschitz: scikit-learn estimators trained at a learning rate computed from the data.

Every estimator minimises an empirical risk by gradient descent whose step is
``1/L``, with ``L`` a Lipschitz (or smoothness) constant of the objective
computed from the data, so no learning rate has to be tuned.
"""

__version__ = "0.1.0"

from .kernels import SBAFKernel, SBAFRandomFeatures, sbaf_kernel
from .linear_model import LipschitzQuantileClassifier, LipschitzRegressor, LipschitzRegressorCV
from .neural_network import SymNetClassifier, SymNetRegressor

__all__ = [
    "LipschitzQuantileClassifier",
    "LipschitzRegressor",
    "LipschitzRegressorCV",
    "SBAFKernel",
    "SBAFRandomFeatures",
    "SymNetClassifier",
    "SymNetRegressor",
    "sbaf_kernel",
    "__version__",
]
