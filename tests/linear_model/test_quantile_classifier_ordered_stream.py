"""LipschitzQuantileClassifier.partial_fit on streams ordered by class.

A class that arrives only at the end of every pass, or chunks sorted by
class: the chunks' gradients then point the same way chunk after chunk.
References: the same rows streamed in a shuffled order, and
``sklearn.linear_model.LogisticRegression`` fitted on all of them.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression

from sklipschitz.linear_model import LipschitzQuantileClassifier


def _stream(class_stream, order, passes):
    return class_stream(LipschitzQuantileClassifier(random_state=0), order, passes)


def test_a_class_arriving_late_trains_as_a_shuffled_stream(five_classes, class_stream):
    """Class 3 (61 of 600 rows) only at the end of every pass: 10 passes reached
    0.882 training accuracy, against 0.905 for the shuffled stream, with the
    steps of the rows-seen constants at twice a class-3 chunk's own rate."""
    X5, Y5 = five_classes
    late = np.argsort(Y5 == 3, kind="stable")
    shuffled = np.random.default_rng(0).permutation(len(Y5))
    est_late, warned = _stream(class_stream, late, 10)
    est_shuffled, _ = _stream(class_stream, shuffled, 10)
    reference = LogisticRegression(max_iter=2000).fit(X5, Y5).score(X5, Y5)
    assert est_late.score(X5, Y5) >= est_shuffled.score(X5, Y5) - 0.01
    assert est_late.score(X5, Y5) >= reference - 0.06
    # a few unlike chunks a pass (3 of 20): the stream trains well, no warning
    assert not warned


def test_chunks_sorted_by_class_warn_once(five_classes, class_stream):
    """Each chunk holds one class (the stream sorted by label): the model follows
    the latest chunks, and the warning says so, once."""
    X5, Y5 = five_classes
    order = np.argsort(Y5, kind="stable")
    est, warned = _stream(class_stream, order, 2)
    assert len(warned) == 1
    assert "Shuffle the rows" in str(warned[0].message)
    # the model trained on a sorted stream is worse than LogisticRegression's fit:
    # the warning is not a false alarm
    reference = LogisticRegression(max_iter=2000).fit(X5, Y5).score(X5, Y5)
    assert est.score(X5, Y5) < reference - 0.1


def test_shuffled_chunks_do_not_warn(five_classes, class_stream):
    X5, Y5 = five_classes
    order = np.random.default_rng(1).permutation(len(Y5))
    _, warned = _stream(class_stream, order, 3)
    assert not warned
