"""molselect.base: what the selector base class checks and guarantees for every selector,
tested with a stub whose scores are given."""

import numpy as np
import pandas as pd
import pytest

from molselect.base import BaseAuxiliarySelector, SelectionResult


class _Stub(BaseAuxiliarySelector):
    """A selector whose scores are given: to test the base class alone."""

    def __init__(self, scores=None, top_k=2, fail=False):
        self.scores = scores
        self.top_k = top_k
        self.fail = fail

    def _score_candidates(self, target, candidates, eval_sets):
        if self.fail:
            raise KeyboardInterrupt
        return SelectionResult(pd.Series(self.scores, index=list(candidates)))


def test_selector_refuses_non_finite_affinities_naming_the_candidate(bbbp_tiny):
    """Probe 33: all-NaN affinities still gave 'the first top_k in input order'."""
    target, _, pool, _ = bbbp_tiny
    with pytest.raises(ValueError, match=r"'esol' \(nan\).*not finite"):
        _Stub(scores=[0.5, np.nan]).fit(target, pool)


def test_failed_refit_leaves_no_stale_selection(bbbp_tiny):
    """Probe 104: an interrupted refit left the previous selected_ looking valid."""
    target, _, pool, _ = bbbp_tiny
    sel = _Stub(scores=[0.5, 0.2]).fit(target, pool)
    assert sel.selected_ == ["bace", "esol"]
    sel.set_params(fail=True)
    with pytest.raises(KeyboardInterrupt):
        sel.fit(target, pool)
    assert not hasattr(sel, "selected_") and not hasattr(sel, "affinity_")
