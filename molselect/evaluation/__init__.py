"""Is the selection any good?  Measured transfer gains, and selectors scored against them.

:func:`transfer_gains` fits the target alone and with each candidate over
several seeds (the study behind the paper's figure 1), :func:`evaluate_selection`
does the same for a whole selected union, :func:`summarize_gains` turns either
into intervals, paired tests and verdicts, and :func:`score_selector` measures
how well selectors' scores predict the gains.  Fits run as independent joblib
jobs (Dask takes them under ``joblib.parallel_config(backend="dask")``) and
are cached on disk by content in a :class:`ResultCache`.
"""

from ._gains import evaluate_selection, permuted_labels, transfer_gains
from ._jobs import FitJob, ResultCache, run_fit, run_jobs
from ._scoring import score_selector
from ._stats import VERDICTS, summarize_gains, variance_components

__all__ = ["FitJob", "ResultCache", "VERDICTS", "evaluate_selection", "permuted_labels",
           "run_fit", "run_jobs", "score_selector", "summarize_gains", "transfer_gains",
           "variance_components"]
