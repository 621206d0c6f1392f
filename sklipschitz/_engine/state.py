"""The engine's training state as plain values, and back.

A fitted estimator keeps what continuing its fit needs (``partial_fit``,
``warm_start``): the loop's :class:`~.loop.TrainState`, the step rule and its
:class:`~.steps.StepState`, the update and its moments, the power iterations
of a network's constants, a Tikhonov penalty, a network's activation.  These are objects of the
engine's private classes; :func:`to_plain` turns them into plain values so
that a saved estimator (pickle, joblib, skops, the command line's model
files) names no private class, and :func:`from_plain` rebuilds them.

A plain value is a number, a string, None, a NumPy array or scalar, a
:class:`numpy.random.RandomState`, or a list or string-keyed dict of plain
values.  An engine object becomes a dict with its type under the key
:data:`TAG` (``{"__engine__": "TrainState", "coefs": [...], ...}``); tuples
and dicts with other keys (the power iterations are keyed by ``("A", k)``)
get a tag too.  :func:`from_plain` rebuilds only the classes of a closed
registry (:data:`CLASSES`), with ``object.__new__`` and their saved
attributes: no constructor runs and no name from the data is imported.
Arrays are neither copied nor converted, so weights shared between an
estimator's attributes and its training state stay shared through a pickle.
Values :func:`to_plain` does not know are passed through unchanged (the
serializer then judges them).
"""

from __future__ import annotations

import dataclasses
import re

from . import activations, loop, network_lipschitz, penalties, steps, updates

#: the key of a plain dict that holds the type of what it stands for
TAG = "__engine__"

#: the engine classes a plain value may name -> the class
CLASSES = {
    cls.__name__: cls
    for cls in (
        loop.TrainState,
        steps.StepState,
        steps.LipschitzStep,
        steps.ConstantStep,
        steps.LocalStep,
        *updates.UPDATES.values(),  # SGD, Momentum, Adam, Nesterov
        network_lipschitz.CentredUpdate,
        network_lipschitz.PowerIteration,
        network_lipschitz.EstimateSchedule,
        penalties.Tikhonov,
        # a network's hidden units (rebuilding an SBAF unit would search its slope again)
        activations.Identity,
        activations.ReLU,
        activations.Tanh,
        activations.Logistic,
        activations.SBAF,
        activations.AReLU,
    )
}

__all__ = ["CLASSES", "TAG", "from_plain", "is_plain_state", "to_plain"]

_NAMES = {cls: name for name, cls in CLASSES.items()}
_ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def to_plain(value):
    """``value`` with every engine object (at any depth) replaced by a plain dict.

    Lists and dicts are rebuilt (never modified in place); arrays, numbers and
    unknown objects are returned as they are.
    """
    name = _NAMES.get(type(value))
    if name is not None:
        out = {TAG: name}
        for key, item in vars(value).items():
            out[key] = to_plain(item)
        return out
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, tuple):
        return {TAG: "tuple", "items": [to_plain(v) for v in value]}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            if TAG in value:
                raise ValueError(f"a dict with the reserved key {TAG!r} cannot be made plain")
            return {k: to_plain(v) for k, v in value.items()}
        return {TAG: "dict", "keys": [to_plain(k) for k in value],
                "values": [to_plain(v) for v in value.values()]}
    return value


def is_plain_state(value, kind=None):
    """True if ``value`` is a plain dict made by :func:`to_plain` (of type ``kind``)."""
    return isinstance(value, dict) and TAG in value and (kind is None or value[TAG] == kind)


def from_plain(value):
    """The inverse of :func:`to_plain`: engine objects rebuilt from their plain dicts.

    Raises
    ------
    ValueError
        If a plain dict names a type outside :data:`CLASSES` or is malformed.
    """
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    if not isinstance(value, dict):
        return value
    if TAG not in value:
        return {k: from_plain(v) for k, v in value.items()}
    kind = value[TAG]
    if kind == "tuple":
        return tuple(from_plain(v) for v in _items(value, "items"))
    if kind == "dict":
        keys, values = _items(value, "keys"), _items(value, "values")
        if len(keys) != len(values):
            raise ValueError("a plain dict state has as many keys as values")
        out = {}
        for k, v in zip(keys, values):
            k = from_plain(k)
            if not isinstance(k, (str, int, float, bool, tuple, type(None))):
                raise ValueError(f"invalid key of type {type(k).__name__} in a plain state")
            out[k] = from_plain(v)
        return out
    cls = CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"engine state type {str(kind)[:80]!r} is not one of "
                         f"{', '.join(sorted(CLASSES))}")
    obj = object.__new__(cls)
    if dataclasses.is_dataclass(cls):  # fields missing from older states: defaults
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                obj.__dict__[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                obj.__dict__[f.name] = f.default_factory()
    for key, item in value.items():
        if key == TAG:
            continue
        if not isinstance(key, str) or not _ATTRIBUTE.match(key) or key.startswith("__"):
            raise ValueError(f"{kind}: invalid attribute name {str(key)[:40]!r}")
        obj.__dict__[key] = from_plain(item)
    return obj


def _items(value, key):
    items = value.get(key)
    if not isinstance(items, list):
        raise ValueError(f"malformed plain {value[TAG]}: {key!r} is not a list")
    return items

