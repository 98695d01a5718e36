"""MolGroupSelector: routing + bi-level meta-gradient + iterative filtering (paper section 4).

The selector runs the rounds; one repeat's training is in ``_molgroup_training``,
the filter's rules, the state between rounds and its checkpoint in ``_filtering``.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed

from .._param_validation import (BACKBONE, N_JOBS, POSITIVE_INT, RUNTIME, Interval,
                                 InvalidParameterError, StrOptions)
from .._checks import check_random_state, repeat_seeds
from ..base import LEAKAGE_GUARD_DOC, TOP_K, BaseAuxiliarySelector
from ..core import resolve_device
from ..core.gate import GATE_DIRECTIONS, STRUCTURES
from ..core.gin import FEATURE_SETS
from ..core.molgroup import META_GRADIENTS
from ..core.prepare import build_table
from ._filtering import (_CHECKPOINT_FORMAT, FILTER_RULES, _FilterState, _read_checkpoint,
                         _write_checkpoint, centred_affinity, filter_candidates,
                         survival_ranking)
from ._molgroup_training import RoundSettings, _label_scalers, _train_repeat

__all__ = ["MolGroupSelector", "centred_affinity", "filter_candidates", "survival_ranking"]

#: The paper's hidden size (its configuration is the class defaults), a GPU configuration:
#: on a CPU a run of that size takes about an hour (2 cores, BBBP and four candidates).
_PAPER_HIDDEN_DIM = 300


class MolGroupSelector(BaseAuxiliarySelector):
    __doc__ = """Select auxiliary datasets with MolGroup (Huang, Hu and Ying, NeurIPS 2023).

    A GIN in which every dataset owns its parameters is trained on the
    target and all candidates; each auxiliary's layers mix the target's and
    its own parameters through a gate ``a_m`` that a bi-level meta-gradient
    learns from the target's loss.  Each round re-initialises everything,
    averages each candidate's gate over the last epoch, and drops the
    candidates below ``threshold`` (or the lowest when none is).  After
    ``n_rounds`` rounds the ``top_k`` best survivors are selected.

    Parameters
    ----------
    n_rounds : int, default=3
        Filtering rounds R.
    threshold : float in [0, 1], default=0.6
        The selectors' cut (an affinity of at least ``threshold`` passes),
        applied after every round: a candidate whose affinity (a gate value
        in [0, 1]) is below it is dropped; before the last round, the lowest
        is dropped when none is (``filter_rule="threshold"``).
    top_k : int or None, default=3
        Number of auxiliaries selected after the last round (None: all survivors).
    epochs : int, default=10
        Training epochs per round (an epoch is N_target x (M + 1) draws).
    warmup_epochs : int, default=1
        Epochs at the start of each round without gate and meta-gradient.
    balance : float, default=0.9
        lam: weight of the task affinity against the structure affinity.
    temperature : float, default=0.1
        Gate temperature (the reference code's value).
    gate_direction : {"paper", "reference"}, default="paper"
        Which path the gate's sigmoid weights.  ``"paper"`` follows eq. 2 as
        printed: auxiliary m's layers compute ``a_m f(theta_T) + (1 - a_m)
        f(theta_m)`` with ``a_m = sigmoid(score)``, and ``a_m`` is its
        affinity.  ``"reference"`` follows the authors' released code
        (``models/metagin.py``), ``gate f(theta_m) + (1 - gate) f(theta_T)``
        with ``gate = sigmoid(score)``: the sigmoid weights the auxiliary's
        own parameters, and the affinity reported in ``affinity_`` and
        ``history_`` and compared with ``threshold`` is ``1 - gate``, the
        weight of the target's path (the code keeps ``gate <= 0.4``, i.e.
        affinity >= 0.6).  So a higher affinity means more sharing with the
        target under both.  They differ where a round starts: the initial
        structure cosine is positive, so a candidate starts above 0.5 under
        ``"paper"`` (it stays unless pushed down) and below it under
        ``"reference"`` (it must earn its way above ``threshold``), and a
        lower ``balance`` lowers the initial affinities only under
        ``"reference"``, as the paper's appendix E.1 reports.
    structure : {"shared", "per_dataset"}, default="shared"
        The gate's structure branch (eq. 4).  ``"shared"``: one Set2Set with
        2 processing steps, shared by every dataset, over the raw ``W
        x_fp``, as the paper describes it.  ``"per_dataset"``: one Set2Set per
        dataset with 1 processing step over the L2-normalised ``W x_fp`` of
        each molecule, as the reference code's gate (``models/gater.py``; its
        2-step Set2Set is built but never used).
    feature_set : {"full", "simple"}, default="full"
        Input features of the routed GIN.  ``"full"``: OGB's 9 atom and 3
        bond features, as the paper says ("extracted atom and bond features"
        of OGB).  ``"simple"``: atomic number and chirality, bond type and
        stereo only, the reference code's ``--feature simple``, used by every
        script of it (``x[:, :2]``, ``edge_attr[:, :2]``).  The featurization
        and its cache are the same for both.
    standardize_labels : bool, default=True
        Standardise each regression task (mean 0, variance 1) for MolGroup's
        training, so that datasets of very different label scales weigh alike
        in the joint loss; the paper says nothing about it.  False trains on
        the raw labels, as the reference code (which min-max scales qm8 and
        qm9 only; here they stay raw too).  Classification labels are never
        scaled.
    hidden_dim : int, default=300
        Size of the GIN's node embeddings (every dataset's copy).
    num_layers : int, default=5
        Number of GIN layers; the gate mixes the target's and the auxiliary's
        parameters at each of them.
    dropout : float, default=0.5
        Dropout after every layer.
    batch_size : int, default=128
        Molecules per mixed batch, drawn across the datasets with equal probability.
    lr : float, default=1e-3
        Adam learning rate of the model and of the gate.
    meta_lr : float or None, default=None
        Step size of the virtual SGD step; None uses ``lr`` (as the reference).
    meta_scale : float, default=1000.0
        Factor on the meta-gradient (as the reference).
    meta_gradient : {"exact", "linearized"}, default="exact"
        How the gate's meta-gradient is computed.  ``"exact"`` evaluates the
        target loss at the virtual parameters ``theta_T'`` with a second
        forward pass, as the paper and the reference code do.
        ``"linearized"`` uses the first-order expansion of that loss in the
        virtual step and reuses the target gradient of the ordinary update:
        no second forward pass, and an error of the order of ``meta_lr`` in
        the meta-gradient.  It is an opt-in speed-up, not the default: the
        user guide's "Exact or linearized meta-gradient" has the measured
        cost and the open question whether it shifts the affinities.
    fingerprint : {"maccs"}, default="maccs"
        Fingerprint of the structure affinity.
    device : str, default="auto"
        "auto" uses CUDA when available.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default=None
        Seed; the same seed gives the same selection on the same device.  A
        RandomState or Generator gives one draw from it (which advances it).
    verbose : bool, default=False
        Progress bars per round and epoch, with the running affinities.
""" + LEAKAGE_GUARD_DOC + """    checkpoint : str or path-like or None, default=None
        A JSON file written (atomically) after every finished round: the
        survivors, affinities and history so far, with fingerprints of the
        data and the parameters.  When the file exists, ``fit`` resumes after
        its last finished round and gives the same result as an uninterrupted
        run; a checkpoint of a finished selection returns that selection at
        once.  A checkpoint written for other data or parameters, or by an
        earlier molselect, is refused (delete it to start afresh).
    n_repeats : int, default=1
        Independent trainings per round, each from its own seed (an extension
        of the paper, which trains once).  A candidate's affinity in a round is
        the mean over the repeats, and the filter reads that mean.  One run's
        ranking is mostly seed noise (the user guide's presets page has the
        figures); averaging ``n`` runs divides the noise variance by ``n`` at
        ``n`` times the cost.  The repeats are independent jobs run through
        joblib (see ``n_jobs``).
    gate_epochs : int, default=1
        Number of last epochs over which each repeat's gate is averaged (1:
        the last epoch, as the paper and the reference code).  Must not exceed
        ``epochs - warmup_epochs``, the epochs in which the gate trains.
    filter_rule : {"threshold", "relative"}, default="threshold"
        How a round drops candidates.  ``"threshold"``: those whose mean
        affinity is below ``threshold`` (when none is, the lowest), as the
        paper.  ``"relative"``: those below the round's common level, i.e.
        whose affinity minus the mean of all the round's candidates in the same
        repeat (:func:`centred_affinity`) is negative on average over repeats,
        never leaving fewer than ``top_k``; the last round selects the
        ``top_k`` best.  It removes the shift common to all candidates of a run
        (most of a run's variance, see the user guide's "A ranking that
        repeats") from the decision, at the price of always selecting
        ``top_k`` (the threshold rule can select nothing).
    n_jobs : int or None, default=None
        Processes for a round's repeats, through joblib; None takes joblib's
        current setting (one process, unless inside
        ``joblib.parallel_config``, e.g. ``backend="dask"`` with a
        ``dask.distributed`` client).  With ``torch_threads`` set, results do
        not depend on it.
    torch_threads : int or None, default=None
        Torch threads of each repeat's training (None: the process's
        setting).  The last digits of a training depend on its thread count,
        and joblib's worker processes start with fewer threads than the
        parent, so set it (e.g. 1 with ``n_jobs`` processes on as many cores)
        when the numbers must not depend on where the repeats ran.

    Attributes
    ----------
    selected_ : list of str
        Selected auxiliaries, best first (may be empty: no candidate helps).
    affinity_ : pandas.Series
        Mean affinity (the gate's weight on the target's path, see
        ``gate_direction``) per candidate in the last round it took part in,
        averaged over the round's ``gate_epochs`` last epochs and its
        ``n_repeats`` repeats.
    affinity_std_ : pandas.Series
        Standard deviation of that affinity over the repeats (NaN when
        ``n_repeats=1``).
    affinity_interval_ : pandas.DataFrame
        ``low`` and ``high``: a 95% t interval for the mean affinity over the
        repeats (NaN when ``n_repeats=1``).
    affinity_runs_ : pandas.DataFrame
        Candidates x repeats: each repeat's affinity, same rounds.
    task_affinity_, structure_affinity_ : pandas.Series
        The two cosines (in [-1, 1]) that the gate fuses, same rounds.
    round_dropped_ : pandas.Series
        Round (1-based) after which each candidate was dropped; NaN for the selected.
    history_ : pandas.DataFrame
        One row per round, epoch and candidate: affinity, task_affinity,
        structure_affinity, target_loss (means over the repeats), and
        affinity_std, affinity_low, affinity_high (standard deviation and 95%
        t interval of the epoch's affinity over the repeats; NaN for one).
    ranking_ : list of str
        Every candidate, best first: the selection, then the others by the
        last round they reached and, within it, by ``affinity_``
        (:func:`survival_ranking`; affinities of different rounds are not
        comparable).
    feature_names_in_ : ndarray of str
        Candidate names in the order given; ``n_features_in_`` their number.
    n_leaked_ : dict
        After ``fit_transform``: molecules removed from each auxiliary by the leakage guard.

    Examples
    --------
    >>> from molselect import MolGroupSelector
    >>> from molselect.datasets import load_dataset
    >>> bbbp = load_dataset("bbbp")
    >>> pool = {n: load_dataset(n).train for n in ["bace", "esol", "clintox"]}
    >>> sel = MolGroupSelector(hidden_dim=32, epochs=2, random_state=0)  # doctest: +SKIP
    >>> sel.fit(bbbp.train, pool).selected_                               # doctest: +SKIP
    """

    # The repeats run inside each round: the round's filter reads their mean.
    _repeats_in_scoring = True

    # Every preset is a MolGroup configuration: MolGroup takes all of it.
    _preset_keys = None

    _affinity_meaning = ("the gate's weight on the target's path in the last round the candidate"
                         " took part in, between 0 and 1")

    _parameter_constraints = {
        **BaseAuxiliarySelector._parameter_constraints,
        "n_rounds": [POSITIVE_INT],
        "threshold": [Interval(Real, 0, 1, closed="both",
                               note="the affinities are gate values in [0, 1]")],
        "top_k": TOP_K,
        "epochs": [POSITIVE_INT],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "balance": [Interval(Real, 0, 1, closed="both")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        **BACKBONE,
        "gate_direction": [StrOptions(GATE_DIRECTIONS)],
        "structure": [StrOptions(STRUCTURES)],
        "feature_set": [StrOptions(FEATURE_SETS)],
        "standardize_labels": ["boolean"],
        "meta_lr": [Interval(Real, 0, None, closed="neither"), None],
        "meta_scale": [Interval(Real, 0, None, closed="neither")],
        "meta_gradient": [StrOptions(META_GRADIENTS)],
        "fingerprint": [StrOptions(("maccs",))],
        **RUNTIME,
        "checkpoint": ["path", None],
        "n_repeats": [POSITIVE_INT],
        "gate_epochs": [POSITIVE_INT],
        "filter_rule": [StrOptions(FILTER_RULES)],
        "n_jobs": N_JOBS,
        "torch_threads": [POSITIVE_INT, None],
    }

    def __init__(self, n_rounds=3, threshold=0.6, top_k=3, epochs=10, warmup_epochs=1,
                 balance=0.9, temperature=0.1, hidden_dim=300, num_layers=5, dropout=0.5,
                 gate_direction="paper", structure="shared", feature_set="full",
                 standardize_labels=True,
                 batch_size=128, lr=1e-3, meta_lr=None, meta_scale=1e3,
                 meta_gradient="exact", fingerprint="maccs", device="auto",
                 random_state=None, verbose=False, leakage_guard=True, checkpoint=None,
                 n_repeats=1, gate_epochs=1, filter_rule="threshold", n_jobs=None,
                 torch_threads=None):
        self.n_rounds = n_rounds
        self.threshold = threshold
        self.top_k = top_k
        self.epochs = epochs
        self.warmup_epochs = warmup_epochs
        self.balance = balance
        self.temperature = temperature
        self.gate_direction = gate_direction
        self.structure = structure
        self.feature_set = feature_set
        self.standardize_labels = standardize_labels
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.dropout = dropout
        self.batch_size = batch_size
        self.lr = lr
        self.meta_lr = meta_lr
        self.meta_scale = meta_scale
        self.meta_gradient = meta_gradient
        self.fingerprint = fingerprint
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.leakage_guard = leakage_guard
        self.checkpoint = checkpoint
        self.n_repeats = n_repeats
        self.gate_epochs = gate_epochs
        self.filter_rule = filter_rule
        self.n_jobs = n_jobs
        self.torch_threads = torch_threads

    def _validate_params(self):
        super()._validate_params()
        # Across parameters, which the declarations above cannot say.
        if not self.warmup_epochs < self.epochs:
            raise InvalidParameterError(
                f"warmup_epochs must be in [0, epochs), got {self.warmup_epochs} with "
                f"epochs={self.epochs}: the last epoch must train the gate",
                param="warmup_epochs")
        if self.gate_epochs > self.epochs - self.warmup_epochs:
            raise InvalidParameterError(
                f"gate_epochs must be at most epochs - warmup_epochs = "
                f"{self.epochs - self.warmup_epochs} (the epochs in which the gate trains), "
                f"got {self.gate_epochs}", param="gate_epochs")

    def _score_candidates(self, target, candidates, eval_sets):
        device = resolve_device(self.device)
        if device.type == "cpu" and self.hidden_dim >= _PAPER_HIDDEN_DIM:
            # The paper's size is a GPU configuration: said before the hour goes, not after.
            warnings.warn(
                f"MolGroupSelector at the paper's size (hidden_dim={self.hidden_dim}, "
                f"{self.num_layers} layers, {self.epochs} epochs x {self.n_rounds} rounds) "
                "is training on a CPU: on 2 cores that takes about an hour for a BBBP-sized "
                "target and four candidates. For minutes, use "
                "MolGroupSelector(**molselect.presets.get_preset('stable')); "
                "verbose=True shows progress.", UserWarning, stacklevel=4)
        sequence = check_random_state(self.random_state)
        # The checkpoint records the integer seed (None for fresh entropy: a checkpoint
        # written with random_state=None resumes under random_state=None).
        seed = None if self.random_state is None else sequence.entropy
        state = _FilterState.start(candidates)
        if self.checkpoint is not None:
            fingerprint = self._fingerprint(target, candidates, seed, device)
            saved = _read_checkpoint(self.checkpoint, fingerprint)
            if saved is not None:
                # The round seeds come from the same entropy, so the rounds still to run
                # are those an uninterrupted run would have run (random_state=None too).
                sequence = np.random.SeedSequence(int(saved["entropy"]))
                state = _FilterState.from_checkpoint(saved, candidates)
        seeds = sequence.spawn(self.n_rounds)
        for r in range(state.rounds_done, self.n_rounds):
            if state.finished:  # all dropped before the last round, or resumed when done
                break
            runs = self._run_round(r, target, [candidates[n] for n in state.alive], seeds[r],
                                   device)
            per_run = state.record_round(r, runs, self.gate_epochs)
            final = r == self.n_rounds - 1
            score = centred_affinity(per_run) if self.filter_rule == "relative" \
                else per_run.mean(axis=1)
            survivors, dropped = filter_candidates(score, self.threshold, final, self.top_k,
                                                   rule=self.filter_rule)
            state.keep(r, survivors, dropped, final)
            if self.checkpoint is not None:
                _write_checkpoint(self.checkpoint, {
                    "format": _CHECKPOINT_FORMAT, "fingerprint": fingerprint,
                    "entropy": str(sequence.entropy), **state.to_checkpoint()})
        return state.result(candidates)

    def _threshold_best(self, affinity):
        """The last round's best affinity: the one its threshold judged (relative rule: None)."""
        dropped = self.round_dropped_
        last = affinity[dropped.index[dropped == dropped.max()]]
        return None if self.filter_rule == "relative" or last.empty else (
            "threshold", self.threshold, f"affinity in round {int(dropped.max())}",
            float(last.max()), last.idxmax())

    def _run_round(self, r, target, alive, round_seed, device):
        """Algorithm 1's inner loop, ``n_repeats`` times: train on the target and ``alive``.

        Repeat 0 uses the round's own seed, so one repeat is exactly the
        paper's single training; the others use children of it.
        """
        members = [target] + list(alive)
        scalers = _label_scalers(members, self.standardize_labels)
        table, classification, _ = build_table(members, fingerprints=True, scalers=scalers)
        n_tasks = [d.n_tasks for d in members]
        seeds = repeat_seeds(round_seed, self.n_repeats)
        settings = RoundSettings.from_params(self.get_params())
        desc = f"MolGroup round {r + 1}/{self.n_rounds} ({len(alive)} candidates)"
        jobs = (delayed(_train_repeat)(
            table, classification, n_tasks, [d.name for d in alive], settings, int(s),
            str(device),
            desc if self.n_repeats == 1 else f"{desc}, repeat {k + 1}/{self.n_repeats}",
            self.verbose, self.torch_threads) for k, s in enumerate(seeds))
        return Parallel(n_jobs=self.n_jobs)(jobs)

    def _fingerprint(self, target, candidates, seed, device):
        """A digest of everything a round's result depends on: data, parameters, device."""
        digest = hashlib.sha256()
        params = {k: v for k, v in self.get_params().items()
                  if k not in ("verbose", "checkpoint", "random_state", "n_jobs",
                               "torch_threads")}
        params["seed"] = seed
        params["device"] = str(device)
        digest.update(json.dumps(params, sort_keys=True, default=repr).encode())
        for name, data in [(target.name, target), *candidates.items()]:
            digest.update(f"\x00{name}\x00{len(data)}\x00{data.task_types}\x00".encode())
            digest.update("\x00".join(map(str, data.ids)).encode("utf-8", "surrogatepass"))
            digest.update(np.ascontiguousarray(data.y, dtype=np.float64).tobytes())
        return digest.hexdigest()
