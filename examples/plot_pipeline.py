"""
Selector and estimator in one scikit-learn pipeline
===================================================

A selector is a scikit-learn transformer: in a
:class:`~sklearn.pipeline.Pipeline` it picks the auxiliaries and hands the
union (target first) to the downstream estimator.  At prediction time the
target's data passes through the selector unchanged, like scikit-learn's
``TargetEncoder``, because only training data is augmented.
"""

# %%
# Data
# ----
# BACE as the target, three small candidates.
from sklearn.pipeline import make_pipeline

from molselect import GINClassifier, MolGroupSelector
from molselect.datasets import load_dataset


bace = load_dataset("bace")
target, valid, test = bace.train.sample(300), bace.valid, bace.test
pool = {name: load_dataset(name).train.sample(150) for name in ["bbbp", "esol", "clintox"]}

# %%
# The pipeline
# ------------
# ``make_pipeline`` names the steps after their classes.  The candidates
# reach the selector's ``fit`` as a step parameter; the estimator gets the
# validation split to keep its best epoch.
pipe = make_pipeline(
    MolGroupSelector(n_rounds=1, epochs=2, hidden_dim=32, num_layers=2, top_k=1,
                     random_state=0),
    GINClassifier(hidden_dim=32, num_layers=2, epochs=2, random_state=0),
)
pipe.fit(target, molgroupselector__auxiliaries=pool, ginclassifier__eval_set=valid)

selector, model = pipe[0], pipe[-1]
print("selected:", selector.selected_)
print("the model was trained on:", model.members_)

# %%
# With scikit-learn's metadata routing on, ``auxiliaries`` and ``eval_set``
# are routed by name, and ``eval_set`` reaches both steps: the selector's
# leakage guard and the estimator's best-epoch choice.
import sklearn

with sklearn.config_context(enable_metadata_routing=True):
    routed = make_pipeline(
        MolGroupSelector(n_rounds=1, epochs=2, hidden_dim=32, num_layers=2, top_k=1,
                         random_state=0),
        GINClassifier(hidden_dim=32, num_layers=2, epochs=2, random_state=0),
    ).fit(target, auxiliaries=pool, eval_set=valid)
    print("molecules removed by the leakage guard:", routed[0].n_leaked_)

# %%
# Predict and score
# -----------------
# The test split goes through the selector untouched; ``score`` is the
# target's own metric (ROC-AUC for BACE).
proba = pipe.predict_proba(test)
print("P(active) of the first molecules:", proba[:5, 1].round(3))
print(f"test ROC-AUC: {pipe.score(test):.3f}")

# %%
# Learning curve of the downstream model
# --------------------------------------
# ``history_`` of an estimator has the training loss and the validation
# metric per epoch.
ax = model.history_.plot(x="epoch", y=["loss", "valid_metric"], marker="o", figsize=(5, 3))
ax.set_title("GIN on BACE + " + ", ".join(selector.selected_))
ax.figure.tight_layout()
