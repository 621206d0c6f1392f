"""SymNetClassifier.partial_fit on streams ordered by class warns once.

Reference: the same rows streamed in a shuffled order (no warning, and a
better model), and the class shares computed here with numpy.
"""
import pickle
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklipschitz.neural_network import SymNetClassifier


def _stream(class_stream, order, passes=2):
    return class_stream(SymNetClassifier(hidden_layer_sizes=(16,), random_state=0), order, passes)


def _unlike_chunks(Y5, order, chunk=30):
    """The chunks whose class shares are more than 1/2 (total variation) from
    those of the rows before them, counted here from the labels."""
    counts, n = np.zeros(5), 0
    for s in range(0, len(order), chunk):
        c = np.bincount(Y5[order[s:s + chunk]], minlength=5).astype(float)
        if counts.sum() > 0:
            n += 0.5 * np.abs(c / c.sum() - counts / counts.sum()).sum() > 0.5
        counts += c
    return n


def test_sorted_stream_warns_once_and_counts_the_unlike_chunks(five_classes, class_stream):
    X5, Y5 = five_classes
    order = np.argsort(Y5, kind="stable")
    est, warned = _stream(class_stream, order, passes=1)
    assert len(warned) == 1
    assert "Shuffle the rows" in str(warned[0].message)
    assert est._stream["order"] == [_unlike_chunks(Y5, order), 19]
    shuffled, none = _stream(class_stream, np.random.default_rng(0).permutation(len(Y5)), passes=1)
    assert not none and shuffled._stream["order"][0] == 0
    # after a pickle the stream goes on without a second warning
    est = pickle.loads(pickle.dumps(est))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.partial_fit(X5[order[:30]], Y5[order[:30]])


def test_a_class_arriving_late_warns_and_trains_worse_than_shuffled(five_classes, class_stream):
    """Class 3 (61 of 600 rows) only at the end of every pass: the warning is not
    a false alarm (the model is worse than the shuffled stream's, and it is the
    late class that is lost: its recall is 0 against 0.26-0.44 for the shuffled
    stream over seeds 0-2, accuracy 0.012-0.031 below)."""
    from sklearn.metrics import recall_score

    X5, Y5 = five_classes
    late = np.argsort(Y5 == 3, kind="stable")
    est, warned = _stream(class_stream, late)
    shuffled, none = _stream(class_stream, np.random.default_rng(0).permutation(len(Y5)))
    assert len(warned) == 1 and not none
    assert est.score(X5, Y5) < shuffled.score(X5, Y5)
    recall = [recall_score(Y5, m.predict(X5), average=None)[3] for m in (est, shuffled)]
    assert recall[0] < recall[1] - 0.2


def test_a_short_stream_sorted_by_class_warns():
    """Breast cancer sorted by class in chunks of 220 rows, two passes (6
    calls): the network ends at the majority class, and the check warns.
    The unlike chunks are those counted here from the labels: call 2
    (malignant 212 + 8 benign before it, all benign in it), 4 and 5."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    order = np.argsort(y, kind="stable")
    X, y = StandardScaler().fit_transform(X)[order], y[order]
    est = SymNetClassifier(hidden_layer_sizes=(32, 32), random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            for s in range(0, len(y), 220):
                est.partial_fit(X[s:s + 220], y[s:s + 220], classes=[0, 1])
    warned = [w for w in caught if "Shuffle the rows" in str(w.message)]
    assert len(warned) == 1
    counts, unlike = np.zeros(2), []
    for call, s in enumerate(list(range(0, len(y), 220)) * 2, start=1):
        c = np.bincount(y[s:s + 220], minlength=2).astype(float)
        if counts.sum() >= 20 and 0.5 * np.abs(c / c.sum() - counts / counts.sum()).sum() > 0.5:
            unlike.append(call)
        counts += c
    assert unlike == [2, 4, 5]
    assert est._stream["order"] == [3, 5]


def test_a_first_call_of_one_row_does_not_count_the_next_chunk(five_classes):
    """One row first, then shuffled 30-row chunks: the rows before the second
    call are one row of one class, far from any mixed chunk; they are too few
    to judge it, and the shuffled stream does not warn."""
    X5, Y5 = five_classes
    order = np.random.default_rng(0).permutation(len(Y5))
    est = SymNetClassifier(hidden_layer_sizes=(16,), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.partial_fit(X5[order[:1]], Y5[order[:1]], classes=np.arange(5))
        for s in range(1, len(Y5), 30):
            est.partial_fit(X5[order[s:s + 30]], Y5[order[s:s + 30]])
    assert est._stream["order"][0] == 0
