"""The training engine: one set of losses, constants, step rules and one loop.

Every estimator of the package is a thin layer over these modules:

- :mod:`.losses` -- pointwise losses in raw-prediction space, each stating
  its own Lipschitz and curvature constants;
- :mod:`.lipschitz` and :mod:`.network_lipschitz` -- the data-dependent
  constants ``L`` (valid bounds and the published 'paper' formulas);
- :mod:`.steps` -- step-size rules (``1/L``, constant, AdGD) as small
  objects with explicit state;
- :mod:`.network` and :mod:`.activations` -- the dense network (the linear
  model is the case without hidden layers) and its activations;
- :mod:`.loop` -- the gradient-descent loop.
"""
