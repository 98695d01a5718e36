"""Named parameter sets for the selectors.

``"paper"`` is the configuration of the MolGroup paper (the estimator
defaults).  ``"medium"`` (hidden 128, the paper's 5 layers and 10 epochs) is
about 3.5x faster and the closest CPU surrogate measured: its seed-averaged
ranking agrees with the paper configuration's in part.  ``"fast"`` is about
30x faster, for a first look and demos: it showed no reproducible ranking.
``benchmarks/bench_molgroup.py --surrogate`` measures this; see the user
guide's "Presets" page for the figures.

``"reference"`` is the paper's configuration with the four choices of the
authors' released code where it departs from the paper as printed
(``gate_direction="reference"``: the sigmoid weights the auxiliary's own
parameters and the affinity is one minus it; ``feature_set="simple"``;
``structure="per_dataset"``: one 1-step Set2Set per dataset over normalised
``W x_fp``; ``standardize_labels=False``).  The other presets follow eq. 2
as printed.  See the user guide's "Where eq. 2 as printed and the released
code disagree".
"""

from __future__ import annotations

__all__ = ["PRESETS", "get_preset"]

PRESETS = {
    "paper": {},
    "medium": {"hidden_dim": 128},
    "fast": {"hidden_dim": 64, "num_layers": 3, "epochs": 4, "warmup_epochs": 1},
    "reference": {"gate_direction": "reference", "feature_set": "simple",
                  "structure": "per_dataset", "standardize_labels": False},
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
