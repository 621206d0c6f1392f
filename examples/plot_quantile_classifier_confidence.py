"""Confidence and retention with the quantile classifier.

``LipschitzQuantileClassifier`` fits the classifier at a grid of quantile
levels.  A prediction is *reliable* when it does not change over a band of
levels around ``quantile`` (``confidence_band``); the wider the band, the
fewer predictions are kept and the more accurate they are.  This example
sweeps the band on held-out breast-cancer data and reports, for each width,

* model confidence: the fraction of test samples kept (no labels needed),
* retention rate: the fraction of the correct predictions that are kept,
* retained accuracy: the accuracy on the kept samples.

Usage::

    python examples/plot_quantile_classifier_confidence.py [--out DIR]

writes ``quantile_classifier_confidence.png`` into ``DIR`` (default: current
directory).
"""

from __future__ import annotations

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklipschitz import LipschitzQuantileClassifier  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the PNG")
    args = parser.parse_args(argv)

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, stratify=y,
                                                        random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    clf = LipschitzQuantileClassifier().fit(X_train, y_train)
    print(f"test accuracy {clf.score(X_test, y_test):.4f} ({clf.n_iter_} epochs, "
          f"{len(clf.quantiles_)} levels)")

    bands = np.round(np.arange(0.0, 0.46, 0.05), 2)
    rows = []
    print(f"{'band':>5s} {'confidence':>11s} {'retention':>10s} {'retained acc.':>13s}")
    for band in bands:
        conf = clf.model_confidence(X_test, band=band)
        ret = clf.retention_rate(X_test, y_test, band=band)
        acc = clf.retained_accuracy(X_test, y_test, band=band)
        rows.append((conf, ret, acc))
        print(f"{band:5.2f} {conf:11.3f} {ret:10.3f} {acc:13.4f}")
    conf, ret, acc = map(np.array, zip(*rows))

    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    ax.plot(bands, conf, marker="o", label="model confidence (kept)")
    ax.plot(bands, ret, marker="s", label="retention rate (correct kept)")
    ax.plot(bands, acc, marker="^", label="retained accuracy")
    ax.axhline(clf.score(X_test, y_test), color="0.5", linestyle=":", label="accuracy (all)")
    ax.set_xlabel("confidence band (half-width in quantile levels)")
    ax.set_ylabel("fraction")
    ax.set_title("LipschitzQuantileClassifier on breast cancer (held-out half)")
    ax.legend(fontsize=8, loc="lower left")
    path = os.path.join(args.out, "quantile_classifier_confidence.png")
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
