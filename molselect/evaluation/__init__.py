"""Is the selection any good?  Measured transfer gains, and selectors scored against them.

:func:`transfer_gains` fits the target alone and with each candidate over
several seeds (the study behind the paper's figure 1), :func:`evaluate_selection`
does the same for a whole selected union, :func:`summarize_gains` turns either
into intervals, paired tests and verdicts, :func:`score_selector` measures
how well selectors' scores predict the gains, and :func:`baseline_scores` gives
the scores a downstream model has to beat (the mean, a random forest on ECFP4).  Fits run as independent joblib
jobs (Dask takes them under ``joblib.parallel_config(backend="dask")``) and
are cached on disk by content in a :class:`ResultCache`.
"""

from ._baselines import baseline_scores
from ._gains import compare_selections, evaluate_selection, permuted_labels, transfer_gains
from ._jobs import FitJob, ResultCache, run_fit, run_jobs
from ._protocol import PROTOCOLS, apply_protocol, protocol_params
from ._race import GainRace, detectable_gain, simulate_races
from ._scoring import score_selector
from ._stats import VERDICTS, summarize_gains, variance_components
from ._subsets import SubsetEffects, SubsetEffectsSelector, design_matrix, main_effects, subset_effects
from ._measure import default_estimator
from ._verified import VerifiedSelector

__all__ = ["FitJob", "GainRace", "PROTOCOLS", "ResultCache", "VERDICTS", "VerifiedSelector",
           "apply_protocol", "baseline_scores", "compare_selections", "default_estimator",
           "detectable_gain", "evaluate_selection",
           "permuted_labels", "protocol_params", "run_fit", "run_jobs", "score_selector",
           "simulate_races", "summarize_gains", "transfer_gains", "variance_components",
           "SubsetEffects", "SubsetEffectsSelector", "design_matrix", "main_effects", "subset_effects"]
