"""Fit protocols: how long each fit of a measurement trains and which network it scores.

A protocol is a named set of estimator parameters that the measurements
(:func:`transfer_gains`, :func:`evaluate_selection`, :func:`subset_effects`,
:class:`VerifiedSelector`) apply to their estimator.  They were compared in
``benchmarks/results/protocol.md`` by the noise of one fit per CPU second, on
the same traced trainings.
"""

from __future__ import annotations

__all__ = ["PROTOCOLS", "apply_protocol", "protocol_params"]

#: Name -> estimator parameters.  "fixed" leaves the estimator as given (molselect
#: 0.1's protocol: its ``epochs``, the best validation-metric epoch's network).
#: "converged" trains until the validation loss has not improved for 10 epochs (at most
#: 100) and predicts with the mean of the 5 best validation-loss epochs' networks: of the
#: 15 protocols measured on the same 128 traced fits (benchmarks/results/protocol.md), the
#: most efficient whose permuted-label control stays within its interval of 0 on every
#: target (sider, bbbp, clintox, esol): residual variance x CPU seconds 1.78x lower than
#: "fixed" with the fast GIN's 20 epochs (bbbp 2.4x, clintox 5.6x, sider 0.8x, esol 0.9x).
PROTOCOLS = {
    "fixed": {},
    "converged": {"epochs": 100, "early_stopping": 10, "monitor": "loss", "n_checkpoints": 5},
}
#: The protocol the measurements use unless told otherwise.
DEFAULT_PROTOCOL = "converged"


def protocol_params(name):
    """The estimator parameters of protocol ``name`` ("default": the measured best).

    Parameters
    ----------
    name : str
        A key of :data:`PROTOCOLS`, or "default".

    Returns
    -------
    dict
    """
    name = DEFAULT_PROTOCOL if name == "default" else name
    if name not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {sorted(PROTOCOLS)} or 'default', got "
                         f"{name!r}")
    return dict(PROTOCOLS[name])


def apply_protocol(estimator, name):
    """A clone of ``estimator`` with protocol ``name``'s parameters set.

    Parameters
    ----------
    estimator : estimator
    name : str

    Returns
    -------
    estimator
        Unfitted.
    """
    from sklearn.base import clone

    params = protocol_params(name)
    accepted = estimator.get_params(deep=False)
    unknown = [k for k in params if k not in accepted]
    if unknown:
        raise ValueError(f"protocol {name!r} sets {unknown}, which "
                         f"{type(estimator).__name__} does not have; use protocol='fixed'")
    return clone(estimator).set_params(**params)
