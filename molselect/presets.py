"""Named parameter sets for the selectors.

``"paper"`` is the configuration of the MolGroup paper (the estimator
defaults).  ``"fast"`` is a lighter surrogate for CPUs, about 25x faster per
round.  ``benchmarks/bench_molgroup.py --surrogate`` compares its rankings with
the paper configuration's (Kendall tau); on the pool measured so far the paper
configuration's own seed-to-seed tau is as low as the surrogate's, so no
ranking fidelity is claimed: see the user guide's "Presets" page.
"""

from __future__ import annotations

__all__ = ["PRESETS", "get_preset"]

PRESETS = {
    "paper": {},
    "fast": {"hidden_dim": 64, "num_layers": 3, "epochs": 4, "warmup_epochs": 1},
}


def get_preset(name):
    """Return a copy of the parameters of preset ``name``.

    Parameters
    ----------
    name : str
        One of ``PRESETS``.

    Returns
    -------
    dict
        Keyword arguments for :class:`~molselect.MolGroupSelector`.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return dict(PRESETS[name])
