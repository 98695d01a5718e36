"""Named parameter sets for the selectors.

``"paper"`` is the configuration of the MolGroup paper (the estimator
defaults).  ``"medium"`` (hidden 128, the paper's 5 layers and 10 epochs) is
about 3.5x faster and the closest CPU surrogate measured: its seed-averaged
ranking agrees with the paper configuration's in part.  ``"fast"`` is about
30x faster, for a first look and demos: it showed no reproducible ranking.
``benchmarks/bench_molgroup.py --surrogate`` measures this; see the user
guide's "Presets" page for the figures.
"""

from __future__ import annotations

__all__ = ["PRESETS", "get_preset"]

PRESETS = {
    "paper": {},
    "medium": {"hidden_dim": 128},
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
