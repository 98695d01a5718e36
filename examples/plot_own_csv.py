"""
Bring your own CSV
==================

Your target is usually not a MoleculeNet dataset but a spreadsheet: one
column of SMILES and one or more label columns.
:func:`~molselect.datasets.from_csv` turns it into a dataset that every
selector and estimator accepts.  The same works on the command line:
``molselect select --target my_assay.csv --smiles-col SMILES --task-cols active ...``.
"""

# %%
# A CSV file
# ----------
# To stay offline this example writes a CSV from bundled data; in practice
# it is your own file.  It has an extra text column and one SMILES that
# RDKit cannot parse, as real files do.
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from molselect.datasets import from_csv, load_dataset, scaffold_split

frame = load_dataset("bbbp").full.to_frame().iloc[::5]
frame = frame.rename(columns={"smiles": "SMILES", frame.columns[1]: "permeable"})
frame["compound"] = [f"cmpd-{i}" for i in range(len(frame))]
frame.loc[frame.index[3], "SMILES"] = "C1CC(not a molecule"
folder = Path(tempfile.mkdtemp())
path = folder / "my_assay.csv"
frame.to_csv(path, index=False)
pd.read_csv(path).head()

# %%
# Read it
# -------
# Name the SMILES column and the label columns; the other columns are
# ignored.  The task type is inferred (0/1 labels: classification).  With
# ``on_invalid="drop"`` unparsable SMILES are dropped with a warning and
# their row numbers are kept in ``dropped_rows``; the default, ``"raise"``,
# stops with the list of bad rows.
mine = from_csv(path, smiles_col="SMILES", task_cols=["permeable"], on_invalid="drop")
print(mine)
print("dropped rows:", mine.dropped_rows)

# %%
# A column that does not exist gives a clear error:
try:
    from_csv(path, smiles_col="smiles")
except (KeyError, ValueError) as error:
    print(error)

# %%
# Split it
# --------
# A scaffold split keeps molecules with the same Bemis-Murcko scaffold in the
# same split, like the paper's splits.
train_idx, valid_idx, test_idx = scaffold_split(mine)
train, valid, test = (mine.subset(i) for i in (train_idx, valid_idx, test_idx))
print(len(train), len(valid), len(test))

# %%
# ``from_csv`` can split for you, and checks every part: at least two
# molecules and both classes.  ``split="cluster"`` keeps whole Butina
# clusters of fingerprints on one side, the split for a congeneric series
# whose molecules share one scaffold; ``"random"`` is the plain seeded split.
# A split that cannot be scored is an error naming a split that works.
parts = from_csv(path, smiles_col="SMILES", task_cols=["permeable"], on_invalid="drop",
                 split="cluster", random_state=0)
print(parts)

# %%
# Rank candidates
# ---------------
# Candidates can be registry names or CSV files too.  Here a training-free
# baseline, the fingerprint-distribution similarity of the paper's section 3,
# ranks them in a second; :class:`~molselect.MolGroupSelector` is used the
# same way.
from molselect.selectors import FingerprintSimilaritySelector

rng = np.random.default_rng(0)
pool = {}
for name in ["bace", "esol", "tox21", "freesolv"]:
    with warnings.catch_warnings():
        # tox21 drops 8 SMILES that RDKit cannot parse (see .full.dropped_rows)
        warnings.simplefilter("ignore", UserWarning)
        data = load_dataset(name).train
    pool[name] = data.sample(300, random_state=rng)
selector = FingerprintSimilaritySelector(top_k=2).fit(train, pool, eval_set=[valid, test])
print("selected:", selector.selected_)

# %%
# A bar chart of the scores (higher: the candidate's substructures cover the
# target's better).
ax = selector.affinity_.sort_values().plot.barh(figsize=(5, 2.5))
ax.set_xlabel("fingerprint similarity (negative KL divergence)")
ax.figure.tight_layout()
