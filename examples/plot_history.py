"""
Reading ``history_``: task versus structure affinity
====================================================

MolGroup's gate fuses two cosine similarities (paper eq. 5): a *task*
affinity between learned dataset embeddings, and a *structure* affinity
between Set2Set pools of the molecules' MACCS fingerprints.  ``history_``
records both, per round, epoch and candidate, so you can see why a
candidate was kept or dropped.
"""

# %%
# A small selection for ClinTox
# -----------------------------
import warnings

import numpy as np

from molselect import MolGroupSelector
from molselect.datasets import load_dataset


clintox = load_dataset("clintox")
target = clintox.train.sample(300)
with warnings.catch_warnings():
    # tox21 drops 8 SMILES that RDKit cannot parse (see .full.dropped_rows)
    warnings.simplefilter("ignore", UserWarning)
    pool = {name: load_dataset(name).train.sample(150)
            for name in ["tox21", "sider", "esol", "qm9"]}
selector = MolGroupSelector(n_rounds=2, epochs=2, hidden_dim=32, num_layers=2,
                            random_state=0).fit(target, pool)

# %%
# The tidy history
# ----------------
# One row per round, epoch and candidate.  ``affinity`` is the gate
# :math:`a_m` averaged over the epoch's steps; ``task_affinity`` and
# ``structure_affinity`` are the two cosines, in [-1, 1]; ``target_loss`` is
# the target's mean training loss that epoch.
history = selector.history_
history.head(8)

# %%
# The last epoch of each round, one row per candidate: the affinity that
# decided the round.
last = history[history["epoch"] == history.groupby("round")["epoch"].transform("max")]
last.pivot(index="candidate", columns="round", values="affinity").round(3)

# %%
# The gate is :math:`\sigma((\lambda\,\text{task} + (1-\lambda)\,\text{structure}) / \tau)`
# with :math:`\lambda` = ``balance`` and :math:`\tau` = ``temperature``, per
# step; averaging over steps means the identity only holds approximately
# for the epoch means:
lam, tau = selector.balance, selector.temperature
mixed = lam * last["task_affinity"] + (1 - lam) * last["structure_affinity"]
approx = 1 / (1 + np.exp(-mixed / tau))
np.c_[last["affinity"], approx].round(3)[:4]

# %%
# Task against structure
# ----------------------
# Each point is a candidate at the end of a round.  The task embeddings
# start orthogonal (cosine 0) and move with the meta-gradient; the
# structure cosine reflects the batches' fingerprints from the first step.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 4))
for name, rows in last.groupby("candidate"):
    ax.plot(rows["structure_affinity"], rows["task_affinity"], marker="o", label=name)
    for _, row in rows.iterrows():
        ax.annotate(f"r{int(row['round'])}", (row["structure_affinity"], row["task_affinity"]),
                    textcoords="offset points", xytext=(4, 4), fontsize="small")
ax.set_xlabel("structure affinity")
ax.set_ylabel("task affinity")
ax.legend(fontsize="small")
ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# The curves of each part
# -----------------------
# :func:`~molselect.plotting.plot_affinity` draws any of the three columns.
from molselect.plotting import plot_affinity

fig = plot_affinity(history, column="task_affinity")
fig = plot_affinity(history, column="structure_affinity")
