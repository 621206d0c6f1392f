"""Does the adaptive learning rate "begin large and decay naturally"?

The LALR talk reports that "although the adaptive learning rate paradigm
begins with large values of learning rate, a natural decay in the learning
rate is observed".  This example plots ``learning_rate_history_`` (the rate
used in each epoch) for fits where the rate is computed from the data, and
shows when it decays and why:

* **absolute error, mini-batches, ``learning_rate='lipschitz'``**: the rate
  is ``1/(L sqrt(t))`` at epoch t.  It decays, but by design, not
  "naturally": ``L`` (a valid bound on the gradient) is fixed by the data
  and the ``1/sqrt(t)`` factor is the classical subgradient schedule that a
  non-smooth loss needs to converge (a constant step only reaches a
  neighbourhood of the optimum whose size is proportional to the step).
* **absolute error, mini-batches, ``learning_rate='paper'``**: the published
  rule ``m / max_b ||[1, X_b]||_F``.  For a linear model the constant depends
  on the data only, so the rate is constant: no decay at all.  Its loss
  curve shows the other side of a large constant rate: this constant can be
  ``sqrt(m)`` times smaller than the gradient's true bound, and the
  objective keeps oscillating at a level that can lie above the one of the
  starting point (the constant median model).
* **log-cosh, full batch, ``learning_rate='local'``**: adaptive steps
  (Malitsky & Mishchenko 2020) started at ``1/L``; they follow the local
  curvature, which for log-cosh *falls* where residuals are large, so the
  rate typically grows from its start rather than decaying.
* **SymNet, ``learning_rate='paper'``** (when ``sklipschitz.neural_network``
  is available): the constant is recomputed every epoch from the current
  network, ``K_z`` being the norm of the last hidden layer's activations.
  This is where a natural decay can come from: as the hidden weights grow,
  the activations (and ``K_z``) grow and ``1/L`` shrinks; if the weights
  shrink, the rate rises.  Whether it decays is a property of the fit, not
  a guarantee.

In short: the rate decays for a linear model only through an explicit
schedule (non-smooth losses) and is constant under the published rule; a
data-driven decay appears only when ``L`` is recomputed from a changing
network.

Usage::

    python examples/plot_learning_rate_decay.py [--out learning_rate_decay.png]
"""

from __future__ import annotations

import argparse
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklipschitz import LipschitzRegressor  # noqa: E402


def fits(X, y):
    """(label, fitted estimator) pairs."""
    out = []
    models = [
        ("absolute error, batch 32, 'lipschitz': 1/(L sqrt(t))",
         LipschitzRegressor(loss="absolute_error", batch_size=32, max_iter=100,
                            n_iter_no_change=100, random_state=0)),
        ("absolute error, batch 32, 'paper' (LALR)",
         LipschitzRegressor(loss="absolute_error", batch_size=32, learning_rate="paper",
                            max_iter=100, n_iter_no_change=100, random_state=0)),
        ("log-cosh, full batch, 'local' (AdGD from 1/L)",
         LipschitzRegressor(loss="log_cosh", learning_rate="local", max_iter=100,
                            n_iter_no_change=100)),
    ]
    try:
        from sklipschitz.neural_network import SymNetRegressor
    except ImportError:
        print("sklipschitz.neural_network is not available: SymNet curve skipped.")
    else:
        models.append(
            ("SymNet (100 ReLU), batch 32, 'paper', recomputed each epoch",
             SymNetRegressor(hidden_layer_sizes=(100,), activation="relu", batch_size=32,
                             learning_rate="paper", max_iter=100, n_iter_no_change=100,
                             random_state=0))
        )
    for label, est in models:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        out.append((label, est))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description="Plot learning_rate_history_ of several fits.")
    parser.add_argument("--out", default="learning_rate_decay.png", help="PNG file to write")
    args = parser.parse_args(argv)

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()

    results = fits(X, y)
    fig, (ax_lr, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.5))
    print(f"{'fit':62s} {'epochs':>6s} {'first rate':>11s} {'last rate':>11s} {'last/first':>10s}")
    for label, est in results:
        lr = np.asarray(est.learning_rate_history_)
        epochs = np.arange(1, len(lr) + 1)
        ax_lr.plot(epochs, lr, label=label)
        ax_loss.plot(epochs, est.loss_curve_, label=label)
        print(f"{label:62s} {est.n_iter_:6d} {lr[0]:11.4g} {lr[-1]:11.4g} {lr[-1] / lr[0]:10.3g}")
    ax_lr.set_yscale("log")
    ax_lr.set_xlabel("epoch")
    ax_lr.set_ylabel("learning rate (mean over the epoch's steps)")
    ax_lr.set_title("learning_rate_history_ (diabetes, standardized)")
    ax_lr.grid(alpha=0.3, which="both")
    ax_lr.legend(fontsize=7)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training objective")
    ax_loss.set_title("loss_curve_")
    ax_loss.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
