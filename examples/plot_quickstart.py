"""
Quick start: select auxiliary datasets for BBBP
===============================================

A small target (BBBP, blood-brain barrier penetration) and a handful of
candidate auxiliary datasets.  :class:`~molselect.MolGroupSelector` learns
how much each candidate helps the target and keeps the best ones; the
affinity learning curves show how it decided.
"""

# %%
# Load the target and the candidates
# ----------------------------------
# ``load_dataset`` returns the paper's scaffold split.  The candidates are
# the training splits of other datasets.  To keep this example under a
# minute on a CPU, every dataset is subsampled to a few hundred molecules.
import warnings

import molselect as ms
from molselect.datasets import load_dataset


bbbp = load_dataset("bbbp")
target = bbbp.train.sample(300)
with warnings.catch_warnings():
    # tox21 drops 8 SMILES that RDKit cannot parse (see .full.dropped_rows)
    warnings.simplefilter("ignore", UserWarning)
    pool = {name: load_dataset(name).train.sample(150)
            for name in ["bace", "clintox", "esol", "freesolv", "tox21"]}
print(target.summary())
for data in pool.values():
    print("  candidate", data.summary())

# %%
# Select
# ------
# Two filtering rounds with a tiny network.  The real settings come from a
# preset: ``ms.MolGroupSelector(**ms.get_preset("fast"))`` on a CPU, the
# defaults (the paper's configuration) on a GPU.  ``eval_set`` holds the
# target's held-out splits: their molecules are kept out of the auxiliaries
# (the leakage guard).
selector = ms.MolGroupSelector(n_rounds=2, epochs=2, hidden_dim=32, num_layers=2,
                               top_k=2, random_state=0)
selector.fit(target, pool, eval_set=[bbbp.valid, bbbp.test])

print("selected:", selector.selected_)
print(selector.affinity_.sort_values(ascending=False).round(3))

# %%
# Which round dropped which candidate
# -----------------------------------
# ``round_dropped_`` is NaN for the candidates that survived every round.
selector.round_dropped_

# %%
# Affinity learning curves
# ------------------------
# As in the paper's figure 8: one panel per round, one curve per candidate,
# the red line is the threshold (0.6) below which a candidate is dropped at
# the end of the round; a dashed curve marks a candidate dropped after that
# round.
from molselect.plotting import plot_affinity

fig = plot_affinity(selector.history_, threshold=selector.threshold)

# %%
# The union for training
# ----------------------
# ``fit_transform`` returns the target followed by the selected auxiliaries,
# ready for a downstream estimator (see the Graphormer example).
union = selector.fit_transform(target, pool, eval_set=[bbbp.valid, bbbp.test])
union
