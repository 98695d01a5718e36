"""What the selectors that measure outcomes share: their model, run settings and splits.

:class:`~molselect.evaluation.VerifiedSelector` and
:class:`~molselect.evaluation.SubsetEffectsSelector` fit the downstream model
themselves, as cached jobs; their parameters for how those fits run and the
check of the splits they need are declared here once.
"""

from __future__ import annotations

import os
from numbers import Integral

from sklearn.base import BaseEstimator

from .._param_validation import (N_JOBS, POSITIVE_INT, Hidden, Interval, StrOptions,
                                 _InstancesOf)
from ..datasets._base import CLASSIFICATION
from ._jobs import ResultCache
from ._protocol import PROTOCOLS, apply_protocol

__all__ = ["MEASUREMENT_CONSTRAINTS", "CACHE_DEPRECATED_DOC", "default_estimator",
           "scoring_splits"]

#: The numpydoc entry of the old name ``cache`` of ``results_dir``, written once.
CACHE_DEPRECATED_DOC = """    cache : str, path-like or ResultCache, optional
        Deprecated: the name ``results_dir`` had until 0.1 (it also named the
        feature cache); still accepted, with a FutureWarning, until 0.2.
"""

#: The declarations of the parameters that say how a measuring selector's fits run.
MEASUREMENT_CONSTRAINTS = {
    "estimator": [_InstancesOf(BaseEstimator, "an estimator"), None],
    "protocol": [StrOptions(("default", *PROTOCOLS))],
    "results_dir": [_InstancesOf((str, os.PathLike, ResultCache), "a folder or a ResultCache"),
                    None],
    # The old name of results_dir ("deprecated": not given).
    "cache": [_InstancesOf((str, os.PathLike, ResultCache), "a folder or a ResultCache"), None,
              Hidden(StrOptions(("deprecated",)))],
    "n_jobs": N_JOBS,
    "torch_threads": [POSITIVE_INT, None],
    "random_state": [Interval(Integral, 0, None, closed="left")],
    "verbose": ["verbose"],
}


def default_estimator(target):
    """The fast downstream GIN of the target's kind, under the measured default protocol.

    Parameters
    ----------
    target : MoleculeDataset

    Returns
    -------
    GINClassifier or GINRegressor
    """
    from ..models import GINClassifier, GINRegressor
    from ..presets import get_estimator_preset

    kind = GINClassifier if CLASSIFICATION in target.task_types else GINRegressor
    return apply_protocol(kind(**get_estimator_preset("fast", "gin")), "default")


def scoring_splits(eval_sets, owner):
    """The validation split (best epoch) and the split a measuring selector scores.

    Parameters
    ----------
    eval_sets : list of MoleculeDataset
        The checked ``eval_set`` of ``fit``.
    owner : str
        The selector's name, for the message.

    Returns
    -------
    valid, test : MoleculeDataset
    """
    if len(eval_sets) < 2:
        raise ValueError(f"{owner} needs the target's validation split (best epoch) and a "
                         "held-out split to score: eval_set=[valid, test]")
    return eval_sets[0], eval_sets[1]
