"""molselect: choose the auxiliary molecule datasets that help a target, then train on them.

The public API: selectors (:class:`MolGroupSelector` and the paper's
baselines), downstream estimators, and :mod:`molselect.datasets`.

Names are imported lazily (PEP 562), so ``import molselect`` stays cheap: joblib
workers that unpickle a molselect function do not pay for torch and
scikit-learn unless they use them.
"""

from importlib import import_module

__version__ = "0.1.0.dev0"

_EXPORTS = {
    "BaseAuxiliarySelector": "molselect.base",
    **{name: "molselect.selectors" for name in (
        "MolGroupSelector", "BeamSearchSelector", "TAGSelector", "Task2VecSelector",
        "MTDNNSelector", "AllAuxiliariesSelector", "FingerprintSimilaritySelector",
        "RandomSelector", "TaskTypeSelector",
    )},
    **{name: "molselect.models" for name in (
        "GINClassifier", "GINRegressor", "GraphormerClassifier", "GraphormerRegressor",
    )},
    "get_preset": "molselect.presets",
    "PRESETS": "molselect.presets",
    "plot_affinity": "molselect.plotting",
    "plot_transfer_heatmap": "molselect.plotting",
    "plot_transfer_gains": "molselect.plotting",
    **{name: "molselect.evaluation" for name in (
        "transfer_gains", "evaluate_selection", "summarize_gains", "score_selector",
        "VerifiedSelector", "SubsetEffectsSelector", "subset_effects",
    )},
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'molselect' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
