"""
Is the selection any good?  Measure it
======================================

A selector's ranking is a prediction: "these auxiliaries will help".
:func:`~molselect.evaluation.transfer_gains` measures what actually happens.
For every seed it trains the downstream model on the target alone and on the
target plus each candidate, and compares the test metric seed by seed.
:func:`~molselect.evaluation.summarize_gains` gives each candidate's mean
gain with its standard error, a 95% interval, a paired test and a verdict,
and :func:`~molselect.evaluation.score_selector` says how well a selector's
scores predict those gains.  The same study runs on the command line as
``molselect transfer``.
"""

# %%
# A small study
# -------------
# To finish in a minute on a CPU, the target and the candidates are
# subsampled and the GIN is tiny.  The published ground truth
# (``benchmarks/results/ground_truth.md``) uses the full training sets, a
# larger GIN and 8 seeds.  ``results_dir="folder"`` would keep every finished fit in
# a results folder, so that an interrupted study resumes and a repeated one
# costs nothing.
import warnings

import matplotlib.pyplot as plt

from molselect.datasets import load_dataset
from molselect.evaluation import score_selector, summarize_gains, transfer_gains
from molselect.models import GINClassifier
from molselect.plotting import plot_transfer_gains
from molselect.selectors import FingerprintSimilaritySelector

bbbp = load_dataset("bbbp")
target = bbbp.train.sample(500)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # tox21 has 8 SMILES RDKit cannot parse
    pool = {name: load_dataset(name).train.sample(300)
            for name in ["bace", "clintox", "esol", "tox21"]}

gin = GINClassifier(hidden_dim=32, num_layers=2, epochs=8)
# protocol="fixed" trains the GIN's own 8 epochs, to keep this page quick to build; the
# default protocol trains each fit to convergence (early stopping on the validation loss),
# which measures with less noise per CPU second and without the bias of short fits.
gains = transfer_gains(target, pool, gin, seeds=4, eval_set=bbbp.valid, test_set=bbbp.test,
                       protocol="fixed", verbose=False)
gains[["candidate", "seed", "score_alone", "score_with", "relative_gain"]].head(8)

# %%
# Gains with their noise
# ----------------------
# Positive means the candidate helps.  With four seeds most intervals cross
# zero: the verdict then says "no clear effect", and the sign of such a gain
# should not be read.  The test is adjusted over the candidates
# (Benjamini-Hochberg), since some of many candidates pass a 5% test by
# chance.
summary = summarize_gains(gains)
summary[["candidate", "relative_gain", "relative_gain_se", "relative_ci_low",
         "relative_ci_high", "p_adjusted", "verdict"]]

# %%
fig = plot_transfer_gains(summary)
plt.show()

# %%
# Score a selector against the measurement
# ----------------------------------------
# Any fitted selector (its ``affinity_``), or several runs of one, can be
# scored: rank correlation with the measured gains, precision of its top k
# against the candidates that help significantly, and the mean measured gain
# of its top k next to the best and a random k.
fingerprint = FingerprintSimilaritySelector(top_k=2).fit(target, pool)
score_selector({"fingerprint": fingerprint}, gains, k=2)[
    ["selector", "spearman", "kendall", "precision_at_k", "top_k_gain", "best_k_gain",
     "random_k_gain"]]
