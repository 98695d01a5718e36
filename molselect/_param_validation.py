"""Declared parameter constraints, checked once per ``fit``, after scikit-learn's design.

Every selector and estimator declares its parameters in a class attribute
``_parameter_constraints``, a dict ``name -> list of constraints`` that
subclasses extend by dict merge; a value is valid when it satisfies at least
one constraint of its list.  ``fit`` calls ``_validate_params()``, and a
class that needs a check across parameters (``warmup_epochs < epochs``)
overrides it, calling ``super()`` first.

The names follow ``sklearn/utils/_param_validation.py`` (``Interval``,
``StrOptions``, ``"boolean"``, ``"random_state"``, ``"verbose"``, ``None``),
but this is molselect's own small module, as imbalanced-learn keeps its own
copy: scikit-learn's module is private and has changed between releases, its
``"random_state"`` refuses a ``numpy.random.Generator``, and its messages
("The 'top_k' parameter of X must be ...") are not molselect's one format,
``"<name> must be <what>, got <value>"``.  The error raised is scikit-learn's
type under the same name, :class:`InvalidParameterError` (a ``ValueError``
and a ``TypeError``), whose ``param`` attribute names the parameter: the
command line maps it back to its option.
"""

from __future__ import annotations

import math
import os
from numbers import Integral, Real

import numpy as np

from ._checks import (
    SEED_TYPES,
    InvalidParameterError,
    check_device,
    is_random_state,
    param_error,
)

__all__ = ["InvalidParameterError", "Interval", "StrOptions", "Hidden", "ParameterValidationMixin",
           "validate_parameter_constraints", "make_constraint", "BACKBONE", "BACKBONE_KEYS",
           "RUNTIME", "POSITIVE_INT", "LEAKAGE_GUARD", "N_JOBS"]


class _Constraint:
    """One kind of valid value: ``is_satisfied_by(value)`` and a description (``str``)."""

    note = None

    def is_satisfied_by(self, value):  # pragma: no cover - abstract
        raise NotImplementedError


class Interval(_Constraint):
    """Numbers of a type within bounds.

    Parameters
    ----------
    type : {numbers.Integral, numbers.Real}
        ``Integral`` accepts Python and NumPy integers (not ``bool``);
        ``Real`` accepts any real number (not ``bool``, not NaN).
    left, right : float or None
        Bounds; None leaves that side unbounded.
    closed : {"left", "right", "both", "neither"}
        Which bounds belong to the interval.
    note : str, optional
        Why the bounds are what they are, appended to the error message
        (e.g. the range of the affinity a threshold is compared with).
    """

    def __init__(self, type, left, right, *, closed, note=None):
        if type not in (Integral, Real):
            raise ValueError(f"type must be numbers.Integral or numbers.Real, got {type!r}")
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(f"closed must be 'left', 'right', 'both' or 'neither', "
                             f"got {closed!r}")
        self.type = type
        self.left = left
        self.right = right
        self.closed = closed
        self.note = note

    def is_satisfied_by(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, self.type):
            return False
        if isinstance(value, Real) and math.isnan(value):
            return False
        if self.left is not None:
            if value < self.left or (value == self.left and self.closed in ("right", "neither")):
                return False
        if self.right is not None:
            if value > self.right or (value == self.right and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self):
        kind = "an integer" if self.type is Integral else "a number"
        low_closed = self.closed in ("left", "both")
        high_closed = self.closed in ("right", "both")
        if self.left is not None and self.right is not None:
            return (f"{kind} in {'[' if low_closed else '('}{self.left:g}, "
                    f"{self.right:g}{']' if high_closed else ')'}")
        if self.left is not None:
            return f"{kind} {'>=' if low_closed else '>'} {self.left:g}"
        if self.right is not None:
            return f"{kind} {'<=' if high_closed else '<'} {self.right:g}"
        return kind


class StrOptions(_Constraint):
    """One string of a fixed set.

    Parameters
    ----------
    options : sequence of str
        The accepted strings, in the order the message lists them.
    """

    def __init__(self, options):
        self.options = tuple(options)

    def is_satisfied_by(self, value):
        return isinstance(value, str) and value in self.options

    def __str__(self):
        return f"one of {self.options}"


class Hidden(_Constraint):
    """A constraint that is accepted but not advertised, as scikit-learn's ``Hidden``.

    For the placeholder of a renamed parameter (``threshold="deprecated"``):
    messages list only the values a user should pass.

    Parameters
    ----------
    constraint : _Constraint or str or None
        What is accepted (as :func:`make_constraint` takes it).
    """

    hidden = True

    def __init__(self, constraint):
        self.constraint = make_constraint(constraint)

    def is_satisfied_by(self, value):
        return self.constraint.is_satisfied_by(value)

    def __str__(self):
        return str(self.constraint)


class _InstancesOf(_Constraint):
    def __init__(self, types, description):
        self.types = types
        self.description = description

    def is_satisfied_by(self, value):
        return isinstance(value, self.types)

    def __str__(self):
        return self.description


class _NoneConstraint(_Constraint):
    def is_satisfied_by(self, value):
        return value is None

    def __str__(self):
        return "None"


class _RandomStates(_Constraint):
    def is_satisfied_by(self, value):
        return is_random_state(value)

    def __str__(self):
        return SEED_TYPES


class _Device(_Constraint):
    """A torch device molselect runs on and this machine has.

    Unlike the other constraints it raises :func:`check_device`'s own error
    for a refused value: only that check can say why (an unknown name, CUDA
    not available, too few GPUs).
    """

    def is_satisfied_by(self, value):
        check_device(value)
        return True

    def __str__(self):
        return "a device"


class _Verbose(_Constraint):
    def is_satisfied_by(self, value):
        return isinstance(value, (bool, np.bool_)) or Interval(
            Integral, 0, None, closed="left").is_satisfied_by(value)

    def __str__(self):
        return "True, False or an integer >= 0"


def make_constraint(constraint):
    """The constraint object for a declaration entry (an object, a keyword or None).

    Parameters
    ----------
    constraint : _Constraint, None or str
        None (the value None), ``"boolean"`` (``bool`` or ``numpy.bool_``),
        ``"random_state"`` (what :func:`molselect._checks.check_random_state`
        accepts), ``"device"`` (what :func:`molselect._checks.check_device`
        accepts), ``"verbose"`` (a bool or an integer >= 0), ``"path"`` (a
        ``str`` or ``os.PathLike``), or a constraint object.

    Returns
    -------
    _Constraint
    """
    if isinstance(constraint, _Constraint):
        return constraint
    if constraint is None:
        return _NoneConstraint()
    keywords = {
        "boolean": lambda: _InstancesOf((bool, np.bool_), "True or False"),
        "random_state": _RandomStates,
        "device": _Device,
        "verbose": _Verbose,
        "path": lambda: _InstancesOf((str, os.PathLike), "a path (str or os.PathLike)"),
    }
    if isinstance(constraint, str) and constraint in keywords:
        return keywords[constraint]()
    raise ValueError(f"unknown constraint {constraint!r}")


def _describe(constraints):
    words = [str(c) for c in constraints if not getattr(c, "hidden", False)]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def validate_parameter_constraints(parameter_constraints, params):
    """Raise the first parameter error of ``params``, in declaration order.

    Parameters
    ----------
    parameter_constraints : dict of str to list
        ``name -> constraints``; a value must satisfy at least one.
    params : dict
        ``name -> value`` (``get_params(deep=False)``).  A parameter without
        a declaration is not checked, as in scikit-learn.

    Raises
    ------
    InvalidParameterError
        ``"<name> must be <constraints>, got <value>"``, followed by the
        constraints' note when they have one; its ``param`` is ``<name>``.
    """
    for name, declared in parameter_constraints.items():
        if name not in params:
            continue
        value = params[name]
        constraints = [make_constraint(c) for c in declared]
        if any(c.is_satisfied_by(value) for c in constraints):
            continue
        notes = [c.note for c in constraints if c.note]
        raise param_error(name, _describe(constraints), value, notes[0] if notes else None)


class ParameterValidationMixin:
    """``_validate_params()`` over the class's ``_parameter_constraints``.

    It replaces scikit-learn's ``BaseEstimator._validate_params``, which reads
    the same attribute with scikit-learn's own constraint types.
    """

    _parameter_constraints: dict = {}

    def _validate_params(self):
        """Check every declared parameter; subclasses add their cross-parameter checks.

        Raises
        ------
        InvalidParameterError
            Naming the first parameter whose value is outside its declaration
            (in its message and its ``param`` attribute).
        """
        validate_parameter_constraints(self._parameter_constraints, self.get_params(deep=False))


#: An integer >= 1 (sizes, epochs, counts).
POSITIVE_INT = Interval(Integral, 1, None, closed="left")

#: The network and optimiser settings that every GIN-trained selector and every
#: estimator (GIN or Graphormer) shares.
BACKBONE = {
    "hidden_dim": [POSITIVE_INT],
    "num_layers": [POSITIVE_INT],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batch_size": [POSITIVE_INT],
    "lr": [Interval(Real, 0, None, closed="neither")],
}

#: The backbone's parameter names, in :data:`BACKBONE`'s order: what a baseline selector
#: takes from a preset, what MolGroup sends to each training round, what beam search
#: trains each combination with.
BACKBONE_KEYS = tuple(BACKBONE)

#: Where and how reproducibly a training runs.
RUNTIME = {
    "device": ["device"],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}

#: The selectors' leakage guard: on (same InChIKey), off, or "skeleton".
LEAKAGE_GUARD = ["boolean", StrOptions(("skeleton",))]

#: joblib's ``n_jobs``: None or a non-zero integer (-1 is every core).
N_JOBS = [Interval(Integral, None, -1, closed="right"), POSITIVE_INT, None]
