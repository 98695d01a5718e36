"""Beam search over auxiliary combinations (paper section 5.1, appendix B)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .._param_validation import BACKBONE, BACKBONE_KEYS, N_JOBS, POSITIVE_INT, RUNTIME, StrOptions
from .._progress import progress_disabled
from ..base import LEAKAGE_GUARD_DOC, N_REPEATS_DOC, BaseAuxiliarySelector, SelectionResult
from ..core.joint import train_and_evaluate
from ..datasets import scaffold_split
from .simple import fingerprint_distribution, fingerprint_kl

__all__ = ["BeamSearchSelector", "holdout_validation"]

CRITERIA = ("performance", "performance+structure")


def holdout_validation(target, frac_valid=0.2):
    """Split a scaffold-disjoint validation part off the target's training data.

    Parameters
    ----------
    target : MoleculeDataset
    frac_valid : float, default=0.2

    Returns
    -------
    train, valid : MoleculeDataset
    """
    n = len(target)
    train_idx, valid_idx, _ = scaffold_split(target.ids, 1.0 - frac_valid, frac_valid, 0.0)
    if len(valid_idx) == 0 or len(train_idx) == 0:
        raise ValueError(
            f"the target {target.name!r} ({n} molecules) is too small to hold out a validation "
            "part; pass its validation split as eval_set"
        )
    return target.subset(train_idx), target.subset(valid_idx)


class BeamSearchSelector(BaseAuxiliarySelector):
    __doc__ = """Select auxiliaries by beam search over combinations, each scored by a short training.

    Starting from the target alone (evaluated as the baseline), every depth
    extends each combination in the beam by one more candidate; each new
    combination is trained jointly with the target (a GIN with one head per
    dataset) for ``epochs`` epochs and scored on the target's validation
    data; the ``beam_width`` best combinations of that depth form the next
    beam.  After ``depth`` levels the best combination found at any depth,
    the target alone included, is selected.

    Parameters
    ----------
    criterion : {"performance", "performance+structure"}, default="performance"
        "performance" (the paper's P): the target's validation loss, lower is
        better.  "performance+structure" (P+S): the mean of the validation
        loss normalised by the target-alone loss and the fingerprint
        divergence ``KL(p_target || p_aux)`` normalised by the largest
        single-candidate divergence, where ``p_aux`` averages the MACCS bit
        distributions of the combination's auxiliaries (equal weights, as
        balanced sampling trains them).  Both terms are 1 at their reference
        and lower is better.  The target alone, having no auxiliary, gets the
        mean structure term of the single candidates.
    beam_width : int, default=3
    depth : int, default=3
        Largest number of auxiliaries in a combination.
    epochs : int, default=3
        Training epochs per combination.
    hidden_dim : int, default=300
    num_layers : int, default=5
    dropout : float, default=0.5
    batch_size : int, default=128
    lr : float, default=1e-3
        Adam learning rate.
    n_jobs : int or None, default=None
        Combinations of one depth are trained in parallel through joblib;
        inside ``joblib.parallel_config(backend="dask")`` (or "ray") they go
        to a cluster.  None: sequentially.
    device : str, default="auto"
        "auto" uses CUDA when available.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default=None
        Every combination is trained from the same seed, so they differ only
        by their data; the same seed gives the same search on the same device.
""" + N_REPEATS_DOC + """    verbose : bool, default=False
        Progress bar over the evaluated combinations.
""" + LEAKAGE_GUARD_DOC + """
    Attributes
    ----------
    selected_ : list of str
        The best combination found, in the order its members were added
        (may be empty: the target alone scored best).  With ``n_repeats`` > 1,
        the combination the most repeated searches found (ties: the first
        found), each search's in ``repeat_selections_``.
    affinity_ : pandas.Series
        Per candidate, the best score of any evaluated combination containing it
        (higher means more helpful: minus a validation loss, see ``history_``).
    history_ : pandas.DataFrame
        One row per evaluated combination: depth, combination (tuple),
        val_loss, structure_divergence, score (higher is better: minus the
        criterion), in_beam (kept for the next depth).
    baseline_loss_ : float
        Validation loss of the target trained alone.
    validation_source_ : str
        "eval_set", or "scaffold holdout" when none was given.
    ranking_ : list of str
    feature_names_in_ : ndarray of str
    n_leaked_ : dict

    Notes
    -----
    ``fit(target, auxiliaries, eval_set=valid)`` uses the first ``eval_set``
    as validation data.  Without one, 20 % of the target's training data is
    held out by scaffold split (with a warning), and the combinations are
    trained on the rest.  At most ``1 + M + width * (M - 1) + width * (M - 2)``
    combinations are trained for M candidates.

    Examples
    --------
    >>> from molselect.selectors import BeamSearchSelector
    >>> sel = BeamSearchSelector(hidden_dim=32, epochs=1, random_state=0)  # doctest: +SKIP
    >>> sel.fit(bbbp.train, pool, eval_set=bbbp.valid).history_           # doctest: +SKIP
    """

    _affinity_meaning = ("minus the target's validation loss after training with the best "
                         "combination holding the candidate")

    _parameter_constraints = {
        **BaseAuxiliarySelector._parameter_constraints,
        "criterion": [StrOptions(CRITERIA)],
        "beam_width": [POSITIVE_INT],
        "depth": [POSITIVE_INT],
        "epochs": [POSITIVE_INT],
        "n_jobs": N_JOBS,
        "n_repeats": [POSITIVE_INT],
        **BACKBONE,
        **RUNTIME,
    }

    def __init__(self, criterion="performance", beam_width=3, depth=3, epochs=3, hidden_dim=300,
                 num_layers=5, dropout=0.5, batch_size=128, lr=1e-3, n_jobs=None, device="auto",
                 random_state=None, n_repeats=1, verbose=False, leakage_guard=True):
        self.criterion = criterion
        self.beam_width = beam_width
        self.depth = depth
        self.epochs = epochs
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.dropout = dropout
        self.batch_size = batch_size
        self.lr = lr
        self.n_jobs = n_jobs
        self.device = device
        self.random_state = random_state
        self.n_repeats = n_repeats
        self.verbose = verbose
        self.leakage_guard = leakage_guard

    def _score_candidates(self, target, candidates, eval_sets):
        if eval_sets:
            train_target, valid, source = target, eval_sets[0], "eval_set"
        else:
            warnings.warn(
                "BeamSearchSelector scores combinations on the target's validation loss but no "
                "eval_set was given: holding out 20% of the target's training data by scaffold "
                "split; pass fit(..., eval_set=valid) to use the real validation split",
                UserWarning, stacklevel=4,
            )
            train_target, valid = holdout_validation(target)
            source = "scaffold holdout"
        names = list(candidates)
        criterion = _Criterion(self.criterion, train_target, candidates)
        # Every combination is trained from the same seed: they differ only by their data.
        settings = {key: getattr(self, key) for key in BACKBONE_KEYS}
        settings.update(epochs=self.epochs, seed=self._training_seed(), device=self.device)
        parallel = Parallel(n_jobs=self.n_jobs, return_as="generator")
        with tqdm(desc="beam search", disable=progress_disabled(self.verbose), leave=False,
                  unit="combination") as bar:

            def evaluate(combos, depth):
                """The target's validation loss after training with each combination."""
                if depth:
                    bar.set_postfix(depth=depth)
                jobs = (delayed(train_and_evaluate)(
                    [train_target] + [candidates[n] for n in combo], valid, **settings)
                    for combo in combos)
                losses = []
                for loss in parallel(jobs):
                    losses.append(loss)
                    bar.update(1)
                return losses

            rows = self._search(names, evaluate, criterion)

        history = pd.DataFrame(rows, columns=["depth", "combination", "val_loss",
                                              "structure_divergence", "score", "in_beam"])
        best = history.loc[history["score"].idxmax(), "combination"]
        affinity = pd.Series({n: history.loc[history["combination"].map(lambda c, n=n: n in c),
                                              "score"].max() for n in names}, dtype=float)
        return SelectionResult(affinity, selected=list(best), history=history, attributes={
            "baseline_loss_": float(criterion.baseline), "validation_source_": source,
        })

    def _search(self, names, evaluate, criterion):
        """The beam search: from the target alone, ``depth`` levels of ``beam_width`` combinations.

        Parameters
        ----------
        names : list of str
            The candidates.
        evaluate : callable
            ``evaluate(combinations, depth)`` -> the validation loss of each.
        criterion : _Criterion
            Scores a combination from its loss (lower is better).

        Returns
        -------
        list of dict
            One history row per evaluated combination.
        """
        criterion.baseline = evaluate([()], 0)[0]
        rows = [dict(criterion.row(0, (), criterion.baseline), in_beam=True)]
        beam = [()]
        for level in range(1, min(self.depth, len(names)) + 1):
            combos = _expand(beam, names)
            if not combos:
                break
            level_rows = [criterion.row(level, combo, loss)
                          for combo, loss in zip(combos, evaluate(combos, level))]
            order = sorted(range(len(combos)), key=lambda i: -level_rows[i]["score"])
            keep = set(order[:self.beam_width])
            for i, row in enumerate(level_rows):
                row["in_beam"] = i in keep
            rows.extend(level_rows)
            beam = [combos[i] for i in order[:self.beam_width]]
        return rows


def _expand(beam, names):
    """Every combination of ``beam`` extended by one more candidate, each set once, in order."""
    seen, combos = set(), []
    for combo in beam:
        for n in names:
            key = frozenset(combo + (n,))
            if n in combo or key in seen:
                continue
            seen.add(key)
            combos.append(combo + (n,))
    return combos


class _Criterion:
    """What beam search minimises for a combination: P, or P+S (see ``criterion``).

    Parameters
    ----------
    criterion : {"performance", "performance+structure"}
    target : MoleculeDataset
        The target's training data (for the structure term).
    candidates : dict of str to MoleculeDataset

    Attributes
    ----------
    baseline : float
        The target-alone validation loss, which normalises P+S's performance
        term; set by the search once the target alone is evaluated.
    """

    def __init__(self, criterion, target, candidates):
        self.structure = criterion == "performance+structure"
        self.baseline = None
        self.scale, self.neutral = 1.0, 0.0
        if self.structure:
            self.p_target = fingerprint_distribution(target.ids)
            self.distributions = {n: fingerprint_distribution(d.ids)
                                  for n, d in candidates.items()}
            singles = [self.divergence((n,)) for n in candidates]
            self.scale = max(singles) or 1.0
            # The target alone has no auxiliary to compare: it gets the mean
            # structure term of the single candidates, so that it competes on
            # performance at an average structure rather than winning by default.
            self.neutral = float(np.mean(singles)) / self.scale

    def divergence(self, combo):
        """``KL(p_target || mean of the combination's distributions)``; NaN without one."""
        if not self.structure or not combo:
            return np.nan
        return fingerprint_kl(self.p_target,
                              sum(self.distributions[n] for n in combo) / len(combo))

    def __call__(self, loss, combo):
        if not self.structure:
            return loss
        s_term = self.divergence(combo) / self.scale if combo else self.neutral
        return 0.5 * loss / max(self.baseline, 1e-12) + 0.5 * s_term

    def row(self, level, combo, loss):
        """The history row of one evaluated combination (score: higher is better)."""
        return {"depth": level, "combination": tuple(combo), "val_loss": float(loss),
                "structure_divergence": float(self.divergence(combo)),
                "score": -float(self(loss, combo))}
