"""Parameter checks shared by the baseline selectors."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import as_seed

__all__ = ["check_positive_int", "check_fraction", "check_gin_params", "derive_seed"]


def check_positive_int(owner, *names, allow_none=False):
    """Raise ValueError unless every named attribute of ``owner`` is an int >= 1."""
    for name in names:
        value = getattr(owner, name)
        if value is None and allow_none:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def check_fraction(owner, name, low=0.0, high=1.0, closed_high=False):
    """Raise ValueError unless ``low <= value < high`` (``<= high`` when ``closed_high``)."""
    value = getattr(owner, name)
    ok = isinstance(value, numbers.Real) and low <= value and (
        value <= high if closed_high else value < high)
    if not ok:
        bracket = "]" if closed_high else ")"
        raise ValueError(f"{name} must be in [{low}, {high}{bracket}, got {value!r}")


def check_gin_params(owner):
    """The GIN settings every training-based selector shares."""
    check_positive_int(owner, "hidden_dim", "num_layers", "batch_size")
    check_fraction(owner, "dropout")
    if not isinstance(owner.lr, numbers.Real) or not owner.lr > 0:
        raise ValueError(f"lr must be > 0, got {owner.lr!r}")


def derive_seed(random_state, *key):
    """A 32-bit seed from ``random_state`` and a key, the same in every process.

    ``random_state=None`` draws fresh entropy (unreproducible by request); a
    ``RandomState`` or ``Generator`` gives one draw from it.
    """
    random_state = as_seed(random_state)
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    words = [int(random_state)] + [sum(ord(ch) for ch in str(k)) for k in key]
    return int(np.random.SeedSequence(words).generate_state(1)[0])
