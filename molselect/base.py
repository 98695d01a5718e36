"""The base class every auxiliary-dataset selector shares.

Like scikit-learn's ``SelectorMixin``, a subclass implements one method,
:meth:`BaseAuxiliarySelector._score_candidates`, which scores the candidate
auxiliaries for a target, and declares its parameters.  The base class
validates the inputs and the parameters, ranks, selects
(:meth:`BaseAuxiliarySelector._select`: the ``top_k`` best whose affinity is
at least ``threshold``), fills the fitted
attributes, builds the union in :meth:`~BaseAuxiliarySelector.fit_transform`
and applies the leakage guard, once for all selectors.
"""

from __future__ import annotations

import warnings
from abc import ABCMeta, abstractmethod

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from ._param_validation import BACKBONE_KEYS, LEAKAGE_GUARD, POSITIVE_INT, ParameterValidationMixin
from ._checks import check_random_state, repeat_seeds
from ._repeats import combine_repeats
from .datasets._base import DatasetGroup
from .datasets._leakage import make_union
from .datasets._from_smiles import from_smiles
from .datasets._validation import check_eval_sets, validate_auxiliaries, validate_target
from .featurize._smiles import is_smiles

__all__ = ["BaseAuxiliarySelector", "SelectionResult"]

#: The declaration of ``top_k`` in the selectors that have one.
TOP_K = [POSITIVE_INT, None]

#: The numpydoc entry of ``n_repeats``, which every selector that trains has, written once.
N_REPEATS_DOC = """    n_repeats : int, default=1
        Independent scorings, each training from its own seed (repeat 0 from
        the seed of the unrepeated fit).  ``affinity_`` is their mean, and
        ``affinity_std_``, ``affinity_interval_`` (95% t interval) and
        ``affinity_runs_`` say how sure it is; the selection table then marks
        a cut whose intervals overlap as "within noise".  The selector's other
        fitted attributes are their means over the repeats (flags: true in
        every repeat), and ``history_`` stacks the repeats' (column
        ``repeat``).  One training's ranking is mostly seed noise: averaging
        ``n`` repeats divides the noise variance by ``n`` at ``n`` times the
        cost; the repeats run one after another.
"""

#: The numpydoc entry of ``leakage_guard``, which every selector has, written once.
LEAKAGE_GUARD_DOC = """    leakage_guard : bool or "skeleton", default=True
        Remove auxiliary molecules found in ``eval_set`` from the union (same
        InChIKey; "skeleton": same largest-fragment connectivity, so stereo and
        salt forms too).
"""


class SelectionResult:
    """What a selector's scoring returns to the base class.

    Parameters
    ----------
    affinity : pandas.Series
        One score per candidate, higher = more helpful.
    selected : list of str, optional
        The selection when the method decides it itself (MolGroup's rounds,
        beam search); otherwise the selector's ``_select(affinity)`` makes it.
    history : pandas.DataFrame, optional
        Tidy training or search record.
    attributes : dict, optional
        Further fitted attributes to set on the selector (names end in ``_``).
    ranking : list of str, optional
        Every candidate, best first, when the method ranks by more than one
        score (MolGroup: the round each candidate reached first); otherwise
        the base class ranks by ``affinity``.
    extra : dict, optional
        Deprecated: the name ``attributes`` had until 0.1; still accepted,
        with a FutureWarning, until 0.2.
    """

    def __init__(self, affinity, selected=None, history=None, attributes=None, ranking=None,
                 *, extra=None):
        if extra is not None:
            warnings.warn("SelectionResult(extra=...) is renamed attributes=; extra= still "
                          "works in 0.1 and will be removed in 0.2", FutureWarning, stacklevel=2)
            attributes = {**extra, **(attributes or {})}
        self.affinity = affinity
        self.selected = selected
        self.history = history
        self.attributes = attributes or {}
        self.ranking = ranking


def best_candidates(affinity, top_k=None, keep=None):
    """The candidates by decreasing affinity, those that ``keep`` admits, at most ``top_k``.

    Parameters
    ----------
    affinity : pandas.Series
        One score per candidate; ties keep the order given.
    top_k : int or None, default=None
        At most this many (None: all admitted).
    keep : pandas.Series of bool, optional
        Per candidate, whether it may be selected (None: every one).

    Returns
    -------
    list of str
        Best first.
    """
    ranked = affinity.sort_values(ascending=False, kind="stable").index
    selected = [n for n in ranked if keep is None or keep[n]]
    return selected if top_k is None else selected[:top_k]


def _warn_copies_of_target(target, candidates):
    """Warn about a candidate that holds the target: its molecules with the same labels.

    A copy of the target, or a superset of it (the target's molecules and more, as when
    a candidate is the whole dataset the target was split from), only looks very
    helpful.  The same molecules with other labels are another task (and a legitimate
    auxiliary).
    """
    ids = target.ids.astype(str)
    for name, data in candidates.items():
        if len(data) < len(target) or data.y.shape[1:] != target.y.shape[1:]:
            continue
        rows = {smiles: i for i, smiles in enumerate(data.ids.astype(str))}
        if not all(smiles in rows for smiles in ids):
            continue
        matched = data.y[[rows[smiles] for smiles in ids]]
        if not np.array_equal(target.y, matched, equal_nan=True):
            continue
        what = (f"is a copy of the target {target.name!r} (the same molecules with the same "
                "labels)" if len(data) == len(target) else
                f"holds the target {target.name!r}: all of its {len(target)} molecules with "
                f"the same labels, among its {len(data)}")
        warnings.warn(
            f"auxiliary {name!r} {what}: it will look very helpful without adding that "
            "data. Leave it out, or remove the target's molecules from it", UserWarning,
            stacklevel=4,
        )


class BaseAuxiliarySelector(ParameterValidationMixin, TransformerMixin, BaseEstimator,
                            metaclass=ABCMeta):
    """Base class for selectors of auxiliary datasets.

    Subclasses implement the abstract ``_score_candidates(target, candidates,
    eval_sets)`` returning a :class:`SelectionResult` (a class without it
    cannot be instantiated) and declare their parameters in
    ``_parameter_constraints`` (see :mod:`molselect._param_validation`),
    extending this class's by dict merge.  The default selection rule,
    :meth:`_select`, reads ``top_k`` and ``threshold`` (None, no cut, for a
    selector without them); a selector that decides its selection otherwise
    overrides it.

    The two selection parameters mean the same in every selector that has
    them:

    - ``threshold`` (float or None): only candidates whose ``affinity_`` is
      **at least** ``threshold`` are selected, as with scikit-learn's
      ``SelectFromModel``; None makes no cut.  It is on the scale of the
      selector's ``affinity_``, whose bounds its declaration checks.
      MolGroup applies it to every filtering round's affinity.  A cut on
      anything else has its own name (MTDNN's ``molecule_threshold``, on
      each auxiliary molecule's probability).
    - ``top_k`` (int or None): at most this many of those, best first; None
      keeps every one.

    A selector may also leave out candidates by a rule of its own (TAG: those
    it never measured; MTDNN: those without a kept molecule); its page says so.

    Attributes
    ----------
    affinity_ : pandas.Series
        One score per candidate: **higher means more helpful** for every
        selector, in units that are the selector's own (a gate weight, minus
        a divergence or a distance, a probability, a relative effect...);
        each selector's page states them.  Scores of two selectors are not
        comparable; their rankings are.
    ranking_ : list of str
        Every candidate, most helpful first (ties broken as the selector
        states).
    selected_ : list of str
        The selection: the ranking cut by the selector's rule (``top_k``,
        ``threshold``).
    affinity_std_, affinity_interval_, affinity_runs_ : pandas objects
        With ``n_repeats`` > 1 (a parameter of every selector that trains):
        the standard deviation of ``affinity_`` over the repeats, its 95% t
        interval (``low``, ``high``) and each repeat's affinity (candidates x
        repeats).  A selector without them is deterministic (its scores
        depend on the data alone) or made one training.

    Notes
    -----
    ``fit_transform(target, auxiliaries)`` returns the union (target first,
    then the selected auxiliaries) as a :class:`~molselect.datasets.DatasetGroup`,
    with the leakage guard applied.  ``transform`` on new data returns it
    unchanged: the selection is about training data, so at prediction time a
    target-only dataset passes straight through to the next pipeline step.
    This asymmetry is deliberate, as for scikit-learn's ``TargetEncoder``.
    """

    # Route these fit parameters by default when scikit-learn's metadata routing is enabled.
    __metadata_request__fit = {"auxiliaries": True, "eval_set": True}

    _parameter_constraints = {"leakage_guard": LEAKAGE_GUARD}

    # The values of the selection's parameters for a selector that does not have them:
    # no threshold, no cap, the leakage guard on.  A selector that has them sets them in
    # __init__ (scikit-learn takes the parameters from its signature, not from these).
    top_k = None
    threshold = None
    leakage_guard = True
    n_repeats = 1
    #: What ``affinity_`` is, in a phrase the selection table's note shows (plain text).
    _affinity_meaning = "the selector's own score, in its own units"
    #: Whether the scores are random by design (the random floor), not a measurement.
    _random_scores = False
    #: Whether ``_score_candidates`` runs the ``n_repeats`` itself (MolGroup: inside each
    #: filtering round, whose filter reads the mean); otherwise ``fit`` repeats it.
    _repeats_in_scoring = False

    #: The preset keys (:data:`molselect.presets.PRESETS`) this selector takes
    #: (:func:`molselect.presets.selector_params`); None takes every one.  MolGroup's
    #: epoch counts mean something else for a baseline (beam search trains per
    #: combination), so a baseline takes only the settings of the GIN backbone it shares
    #: (:data:`~molselect._param_validation.BACKBONE_KEYS`).
    _preset_keys = BACKBONE_KEYS

    @abstractmethod
    def _score_candidates(self, target, candidates, eval_sets):
        """Score the candidates for the target.

        Parameters
        ----------
        target : MoleculeDataset
            The target's training data, checked.
        candidates : dict of str to MoleculeDataset
            The candidate auxiliaries, checked, in the order given.
        eval_sets : list of MoleculeDataset
            The target's held-out data (possibly empty).

        Returns
        -------
        SelectionResult
        """

    def fit(self, X, y=None, auxiliaries=None, *, eval_set=None):
        """Score the candidate auxiliaries for the target ``X`` and select some.

        Parameters
        ----------
        X : dataset or sequence of str
            The target's training data (molselect or DeepChem-style), or its
            SMILES strings (a 1-D list, array or Series) with their labels in
            ``y``, scikit-learn's form, as ``cross_val_score`` and
            ``GridSearchCV`` over a selector-then-estimator ``Pipeline`` pass
            it: the target is then built by
            :func:`molselect.datasets.from_smiles` (tasks ``task0, ...``,
            task types inferred: binary labels mean classification).
        y : mapping or list of datasets, or array-like of labels, optional
            With a dataset ``X``: the candidate auxiliaries given
            positionally, so that ``fit(target, pool)`` reads naturally;
            scikit-learn pipelines pass ``y=None`` here and the pool as
            ``auxiliaries=``.  With SMILES ``X``: their labels, of shape
            (n_samples,) or (n_samples, n_tasks); the candidates then come as
            ``auxiliaries=``.
        auxiliaries : mapping of str to dataset, or list of datasets
            The candidates (a list takes names from the datasets, else positions).
        eval_set : dataset or list of datasets, optional
            Held-out target data (validation / test splits).  Selectors that
            need validation data use the first one; the leakage guard removes
            molecules of all of them from the auxiliaries in ``fit_transform``.

        Returns
        -------
        self
        """
        self._fit(X, y, auxiliaries, eval_set)
        return self

    def _fit(self, X, y, auxiliaries, eval_set):
        """Check the inputs once, score and select; return the checked inputs.

        ``fit_transform`` builds the union from what this returns, so the
        held-out data is not kept on the selector (nor in its pickles).
        """
        if is_smiles(X):
            if y is None:
                raise TypeError("X holds SMILES strings, so their labels must be given as y "
                                "and the candidates as auxiliaries=: fit(smiles, y, "
                                "auxiliaries=pool); or pass the target as a labelled dataset")
            X, y = from_smiles(X, y, name="target", source="X"), None
        if auxiliaries is None:
            auxiliaries = y
        elif y is not None:
            raise TypeError("auxiliaries were given twice (positionally and by keyword)")
        # A new fit invalidates the previous one's results at once: were it to fail or be
        # interrupted, the old selected_ would otherwise look like this call's answer.
        for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, key)
        target = validate_target(X, type(self).__name__)
        candidates = validate_auxiliaries(auxiliaries, target.name)
        # The estimators' check: an eval_set of another task would be scored as the target's.
        eval_sets = check_eval_sets(eval_set, target)
        self._validate_params()
        _warn_copies_of_target(target, candidates)
        if self.n_repeats == 1 or self._repeats_in_scoring:
            # Called from here, so that the scoring's warnings point at the user's fit call.
            result = self._score_candidates(target, candidates, eval_sets)
        else:
            result = self._score_repeated(target, candidates, eval_sets)
        names = list(candidates)
        affinity = pd.Series(result.affinity, dtype=float).reindex(names)
        affinity.name = "affinity"
        not_finite = [n for n in names if not np.isfinite(affinity[n])]
        if not_finite:
            # Ranking NaN would return "the first top_k in input order" as if it were a
            # selection; refuse it instead.
            shown = ", ".join(f"{n!r} ({affinity[n]})" for n in not_finite[:5])
            raise ValueError(
                f"{type(self).__name__}: the affinity of candidate(s) {shown} is not finite, "
                "so no selection can be made from it. A training loss diverged: check the "
                "labels of the target and of these candidates for extreme values, or lower "
                "lr. Nothing was selected")
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        self.affinity_ = affinity
        if result.ranking is not None:
            if sorted(result.ranking) != sorted(names):
                raise RuntimeError(f"{type(self).__name__} ranked {result.ranking}, not every "
                                   f"candidate once ({names}): a bug in the selector")
            self.ranking_ = list(result.ranking)
        else:
            self.ranking_ = list(affinity.sort_values(ascending=False, kind="stable").index)
        if result.history is not None:
            self.history_ = result.history
        # Before the selection: a rule may read them (MTDNN's n_kept_, TAG's measured_).
        for key, value in result.attributes.items():
            setattr(self, key, value)
        selected = result.selected if result.selected is not None else self._select(affinity)
        self.selected_ = list(selected)
        if not self.selected_ and names:
            self._warn_threshold_excludes_all(affinity)
        return target, candidates, eval_sets

    def _score_repeated(self, target, candidates, eval_sets):
        """``_score_candidates``, ``n_repeats`` times from independent seeds, combined.

        Each repeat scores on a copy of the selector (``sklearn.base.clone``)
        whose training seed is the repeat's (:func:`~molselect._checks.repeat_seeds`);
        the results are combined by :meth:`_combine_repeats`.
        """
        results = []
        seeds = repeat_seeds(check_random_state(self.random_state), self.n_repeats)
        for seed in seeds:
            single = clone(self).set_params(n_repeats=1)
            single._repeat_seed = seed
            results.append(single._score_candidates(target, candidates, eval_sets))
        return self._combine_repeats(results, list(candidates))

    def _combine_repeats(self, results, names):
        """One :class:`SelectionResult` from the repeats' (:func:`molselect._repeats.combine_repeats`).

        A selector whose fitted attributes combine otherwise than by their
        mean (MTDNN: a molecule is kept by its mean probability) overrides it.
        """
        return combine_repeats(results, names)

    def _threshold_best(self, affinity):
        """The cut that left nothing selected and the best score it was compared with.

        Called when the selection is empty.

        Returns
        -------
        tuple or None
            ``(parameter, cut, what, value, candidate)``: the parameter's name
            and value, what it was compared with and the best of that, and
            whose it is; None when no cut decided the selection (no
            ``threshold``).  The default rule compares each candidate's
            affinity with ``threshold``; a selector whose cut applies to
            something else (MTDNN: molecules), to a part of the candidates
            (TAG: those it measured) or only sometimes (MolGroup's relative
            rule) overrides this.
        """
        if self.threshold is None:
            return None
        return ("threshold", self.threshold, "affinity", float(affinity.max()),
                affinity.idxmax())

    def _warn_threshold_excludes_all(self, affinity):
        """Warn that a cut left nothing selected, naming it and the best score."""
        best = self._threshold_best(affinity)
        if best is None:
            return
        param, cut, what, value, name = best
        optional = None in self._parameter_constraints.get(param, ())
        warnings.warn(
            f"{type(self).__name__}: {param}={cut:g} excludes every candidate "
            f"(the best {what} is {value:.4g}, of {name!r}), so nothing is selected and the "
            f"union is the target alone. Lower the {param}"
            + (", or set it to None to rank every candidate" if optional else ""),
            UserWarning, stacklevel=4)

    def _select(self, affinity):
        """The selection, best first: the ``top_k`` best whose affinity is at least ``threshold``.

        Called when the scoring leaves the selection to the base class; a
        selector that also leaves out candidates by a rule of its own (TAG,
        MTDNN) overrides it.  Without a ``top_k`` or ``threshold`` parameter,
        the class defaults (None) make no cut.

        Parameters
        ----------
        affinity : pandas.Series
            One finite score per candidate, in the order given.

        Returns
        -------
        list of str
        """
        keep = None if self.threshold is None else affinity >= self.threshold
        return best_candidates(affinity, self.top_k, keep)

    def _training_seed(self):
        """The seed of a training: one 32-bit word of ``check_random_state(random_state)``.

        MolGroup draws each round's seed from its sequence the same way; a
        repeat (:meth:`_score_repeated`) trains from its own.
        """
        seed = getattr(self, "_repeat_seed", None)
        if seed is not None:
            return seed
        return int(check_random_state(self.random_state).generate_state(1)[0])

    def get_support(self, indices=False):
        """Which candidates were selected, in the order they were given.

        Parameters
        ----------
        indices : bool, default=False
            Return integer positions instead of a boolean mask.

        Returns
        -------
        ndarray
        """
        check_is_fitted(self, "selected_")
        mask = np.isin(self.feature_names_in_, self.selected_)
        return np.flatnonzero(mask) if indices else mask

    def get_feature_names_out(self, input_features=None):
        """Names of the selected auxiliaries, best first."""
        check_is_fitted(self, "selected_")
        return np.asarray(self.selected_, dtype=object)

    def transform(self, X):
        """Return ``X`` unchanged (see the class notes: the union comes from ``fit_transform``)."""
        check_is_fitted(self, "selected_")
        return X

    def fit_transform(self, X, y=None, auxiliaries=None, *, eval_set=None):
        """Fit, then return the union: target first, then the selected auxiliaries.

        Auxiliary molecules that also occur in ``eval_set`` (same InChIKey or
        canonical SMILES) are removed when ``leakage_guard`` is on (the
        default); how many per auxiliary is stored in ``n_leaked_`` and
        reported with a warning.  The InChIKey keeps stereochemistry and salt
        or solvent fragments, so an enantiomer or a salt form of a held-out
        molecule stays; ``leakage_guard="skeleton"`` removes those too (same
        largest-fragment connectivity, see
        :func:`molselect.datasets.skeleton_keys`).

        Parameters
        ----------
        X, y, auxiliaries, eval_set
            As :meth:`fit`.

        Returns
        -------
        DatasetGroup
        """
        return self._union(*self._fit(X, y, auxiliaries, eval_set))

    def _union(self, target, candidates, eval_sets):
        selected = {name: self._selected_data(name, candidates[name]) for name in self.selected_}
        guard = self.leakage_guard
        if not (guard and eval_sets):
            self.n_leaked_ = {}
            return DatasetGroup([(target.name, target), *selected.items()])
        union, self.n_leaked_ = make_union(
            target, selected, held_out=eval_sets, return_leaked=True,
            match="skeleton" if guard == "skeleton" else "exact")
        leaked_total = sum(self.n_leaked_.values())
        if leaked_total:
            detail = ", ".join(f"{k}: {v}" for k, v in self.n_leaked_.items() if v)
            warnings.warn(
                f"leakage guard removed {leaked_total} auxiliary molecule(s) that occur in the "
                f"target's held-out data ({detail})", UserWarning, stacklevel=3,
            )
        return union

    def _selected_data(self, name, data):
        """The part of a selected auxiliary that enters the union (all of it by default)."""
        return data
