"""MolGroupSelector: routing + bi-level meta-gradient + iterative filtering (paper section 4)."""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats

from .._param_validation import (BACKBONE, BACKBONE_KEYS, N_JOBS, POSITIVE_INT, RUNTIME,
                                 Interval, InvalidParameterError, StrOptions)
from .._validation import check_random_state
from ..base import TOP_K, BaseAuxiliarySelector, SelectionResult
from ..core import (MolGroupModel, MolGroupStep, resolve_device, seed_everything,
                    torch_threads, train)
from ..core.gate import GATE_DIRECTIONS, STRUCTURES
from ..core.gin import FEATURE_SETS
from ..core.molgroup import META_GRADIENTS
from ..core.prepare import LabelScaler, build_table

__all__ = ["MolGroupSelector", "centred_affinity", "filter_candidates", "survival_ranking"]

#: How a round drops candidates (``MolGroupSelector(filter_rule=...)``).
FILTER_RULES = ("threshold", "relative")
#: Parameters that describe how a round is trained (sent to each repeat's job).
_ROUND_SETTINGS = BACKBONE_KEYS + ("epochs", "warmup_epochs", "balance", "temperature",
                                   "gate_direction", "structure", "feature_set",
                                   "standardize_labels", "meta_lr", "meta_scale", "meta_gradient")
#: Parameters added after checkpoints were written, at the value that computes what the
#: selector computed before they existed: left out of the checkpoint's fingerprint.
_NEUTRAL_PARAMS = {"n_repeats": 1, "gate_epochs": 1, "filter_rule": "threshold"}

#: The paper's hidden size (its configuration is the class defaults), a GPU configuration:
#: on a CPU a run of that size takes about an hour (2 cores, BBBP and four candidates).
_PAPER_HIDDEN_DIM = 300


def filter_candidates(affinity, threshold, final, top_k, rule="threshold"):
    """One round of MolGroup's iterative filtering.

    Parameters
    ----------
    affinity : pandas.Series
        Each surviving candidate's affinity in this round (mean over repeats).
        Under ``rule="relative"``, its affinity relative to the round's common
        level (see :func:`centred_affinity`).
    threshold : float
        Under ``rule="threshold"``, candidates below it are dropped.
        Ignored under ``rule="relative"``, which drops the candidates below
        the round's common level (centred affinity below 0).
    final : bool
        Whether this is the last round.  Before it, the ``threshold`` rule
        drops the lowest candidate when none is below the threshold (paper
        appendix B), and neither rule leaves fewer than ``top_k`` candidates,
        so every round makes progress without starving the final choice.
        After it, the ``top_k`` best survivors are selected (under
        ``"relative"``, the ``top_k`` best of the round, whatever their level).
    top_k : int or None
        Size of the final selection (None keeps every survivor).
    rule : {"threshold", "relative"}, default="threshold"

    Returns
    -------
    survivors : list of str
        Best first.
    dropped : list of str
    """
    ranked = affinity.sort_values(ascending=False, kind="stable")
    if rule == "relative":
        survivors = list(ranked.index) if final else \
            [n for n in ranked.index if not ranked[n] < 0.0]
        if not final and len(survivors) < (top_k or 0):
            survivors = list(ranked.index[:top_k])
    else:
        survivors = [n for n in ranked.index if not ranked[n] < threshold]
        if not final and len(survivors) == len(ranked) and len(survivors) > (top_k or 0):
            survivors = survivors[:-1]
    if final and top_k is not None:
        survivors = survivors[:top_k]
    dropped = [n for n in ranked.index if n not in survivors]
    return survivors, dropped


def survival_ranking(affinity, round_dropped, selected=()):
    """MolGroup's ranking: the selection first, then by the last round each candidate reached.

    A candidate that survived a round was judged better than every candidate
    dropped in it, so it ranks above them whatever its later affinity: the
    affinities of different rounds come from different trainings and are not
    comparable (once the weaker candidates leave, the gate is trained afresh on
    the rest, and the survivors' affinities often fall far below the
    threshold they passed).  Within a round, candidates rank by affinity.

    Parameters
    ----------
    affinity : pandas.Series
        Each candidate's affinity in the last round it took part in.
    round_dropped : pandas.Series
        Round (1-based) after which each candidate was dropped; NaN for the
        selected (and for a candidate still in the running).
    selected : sequence of str, default=()
        The selection, best first.

    Returns
    -------
    list of str
        Every candidate of ``affinity``, best first.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> affinity = pd.Series({"a": 0.9, "b": 0.3, "c": 0.2, "d": 0.5})
    >>> dropped = pd.Series({"a": 1, "b": np.nan, "c": 2, "d": 1})
    >>> survival_ranking(affinity, dropped, selected=["b"])
    ['b', 'c', 'a', 'd']
    """
    reached = round_dropped.reindex(affinity.index).astype(float).fillna(np.inf)
    order = pd.DataFrame({"reached": reached, "affinity": affinity}).sort_values(
        ["reached", "affinity"], ascending=False, kind="stable")
    chosen = list(selected)
    return chosen + [name for name in order.index if name not in chosen]


def centred_affinity(runs):
    """Each candidate's affinity relative to its run's common level, averaged over runs.

    Every candidate of a run shares that run's initialisation and target
    embedding, and more than half of the variance of one run's affinities is a
    shift common to all of its candidates (the user guide's "A ranking that
    repeats", from ``benchmarks/results/surrogate_runs.jsonl``).
    Subtracting each run's mean over candidates removes that shift, so that a
    candidate is judged against the others of the same run.

    Parameters
    ----------
    runs : pandas.DataFrame
        Candidates x repeats: each repeat's affinities.

    Returns
    -------
    pandas.Series
        Mean over repeats of ``affinity - mean over the run's candidates``.
    """
    return (runs - runs.mean(axis=0)).mean(axis=1)


def _train_repeat(table, classification, n_tasks, names, settings, seed, device, desc,
                  verbose, threads=None):
    """Train one MolGroup model on a round's table; per-epoch figures as numbers only.

    A module-level function of picklable arguments, so that joblib can send a
    round's repeats to worker processes or a Dask cluster; the table is built
    once per round, not once per repeat.  ``threads``: torch threads for the
    training (None: the process's setting); ``names``: the candidates, for the
    progress bar.

    Returns
    -------
    dict of str to numpy.ndarray
        ``affinity``, ``task_affinity``, ``structure_affinity``: (epochs,
        candidates), the mean over each epoch's steps in which the candidate
        was present; ``target_loss``: (epochs,).
    """
    with torch_threads(threads):
        return _train_once(table, classification, n_tasks, names, settings, seed,
                           resolve_device(device), desc, verbose)


def _train_once(table, classification, n_tasks, names, settings, seed, device, desc, verbose):
    rng = seed_everything(seed)
    model = MolGroupModel(
        n_tasks, settings["hidden_dim"], settings["num_layers"], settings["dropout"],
        balance=settings["balance"], temperature=settings["temperature"],
        gate_direction=settings["gate_direction"], structure=settings["structure"],
        feature_set=settings["feature_set"],
    ).to(device)
    step = MolGroupStep(model, [c.to(device) for c in classification], lr=settings["lr"],
                        meta_lr=settings["meta_lr"], meta_scale=settings["meta_scale"],
                        warmup_epochs=settings["warmup_epochs"],
                        meta_gradient=settings["meta_gradient"])

    def report(epoch, logs):
        present = np.maximum(logs["present"], 1e-12)
        aff = logs["gate"] / present
        top = np.argsort(-aff)[:3]
        return {f"a[{names[i]}]": float(aff[i]) for i in top}

    history = train(table, step, settings["epochs"], settings["batch_size"], rng, device,
                    on_epoch_end=report, verbose=verbose, desc=desc)
    out = {key: [] for key in ("affinity", "task_affinity", "structure_affinity")}
    for logs in history:
        present = np.maximum(np.asarray(logs["present"], dtype=float), 1e-12)
        out["affinity"].append(np.asarray(logs["gate"], dtype=float) / present)
        out["task_affinity"].append(np.asarray(logs["task_affinity"], dtype=float) / present)
        out["structure_affinity"].append(
            np.asarray(logs["structure_affinity"], dtype=float) / present)
    out = {key: np.vstack(value) for key, value in out.items()}
    out["target_loss"] = np.array([float(logs["target_loss"]) for logs in history])
    return out


def _label_scalers(members, standardize):
    """None (each dataset's regression labels standardised) or identity scalers (raw labels)."""
    if standardize:
        return None
    return [LabelScaler.identity(d.n_tasks) for d in members]


class MolGroupSelector(BaseAuxiliarySelector):
    """Select auxiliary datasets with MolGroup (Huang, Hu and Ying, NeurIPS 2023).

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
        Affinity (a gate value in [0, 1]) below which a candidate is dropped.
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
    leakage_guard : bool or "skeleton", default=True
        Remove auxiliary molecules found in ``eval_set`` from the union (same
        InChIKey; "skeleton": same largest-fragment connectivity, so stereo and
        salt forms too).
    checkpoint : str or path-like or None, default=None
        A JSON file written (atomically) after every finished round: the
        survivors, affinities and history so far, with fingerprints of the
        data and the parameters.  When the file exists, ``fit`` resumes after
        its last finished round and gives the same result as an uninterrupted
        run; a checkpoint of a finished selection returns that selection at
        once.  A checkpoint written for other data or parameters is refused
        (delete it to start afresh).
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

    # Every preset is a MolGroup configuration: MolGroup takes all of it.
    _preset_keys = None

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
            f"affinity in round {int(dropped.max())}", float(last.max()), last.idxmax())

    def _run_round(self, r, target, alive, round_seed, device):
        """Algorithm 1's inner loop, ``n_repeats`` times: train on the target and ``alive``.

        Repeat 0 uses the round's own seed, so one repeat is exactly the
        paper's single training; the others use children of it.
        """
        members = [target] + list(alive)
        scalers = _label_scalers(members, self.standardize_labels)
        table, classification, _ = build_table(members, fingerprints=True, scalers=scalers)
        n_tasks = [d.n_tasks for d in members]
        repeat_seeds = [round_seed.generate_state(1)[0]] + \
            [child.generate_state(1)[0] for child in round_seed.spawn(self.n_repeats - 1)]
        settings = {name: getattr(self, name) for name in _ROUND_SETTINGS}
        desc = f"MolGroup round {r + 1}/{self.n_rounds} ({len(alive)} candidates)"
        jobs = (delayed(_train_repeat)(
            table, classification, n_tasks, [d.name for d in alive], settings, int(s),
            str(device),
            desc if self.n_repeats == 1 else f"{desc}, repeat {k + 1}/{self.n_repeats}",
            self.verbose, self.torch_threads) for k, s in enumerate(repeat_seeds))
        return Parallel(n_jobs=self.n_jobs)(jobs)

    def _fingerprint(self, target, candidates, seed, device):
        """A digest of everything a round's result depends on: data, parameters, device."""
        digest = hashlib.sha256()
        params = {k: v for k, v in self.get_params().items()
                  if k not in ("verbose", "checkpoint", "random_state", "n_jobs",
                               "torch_threads")
                  and not (k in _NEUTRAL_PARAMS and v == _NEUTRAL_PARAMS[k])}
        params["seed"] = seed
        params["device"] = str(device)
        digest.update(json.dumps(params, sort_keys=True, default=repr).encode())
        for name, data in [(target.name, target), *candidates.items()]:
            digest.update(f"\x00{name}\x00{len(data)}\x00{data.task_types}\x00".encode())
            digest.update("\x00".join(map(str, data.ids)).encode("utf-8", "surrogatepass"))
            digest.update(np.ascontiguousarray(data.y, dtype=np.float64).tobytes())
        return digest.hexdigest()


_HISTORY_COLUMNS = ("round", "epoch", "candidate", "affinity", "task_affinity",
                    "structure_affinity", "target_loss", "affinity_std", "affinity_low",
                    "affinity_high")


def _spread(values):
    """Standard deviation and 95% t interval of each row's mean (NaN for one column)."""
    n = values.shape[1]
    mean = values.mean(axis=1)
    if n < 2:
        nan = np.full(values.shape[0], np.nan)
        return {"std": nan, "low": nan, "high": nan}
    std = values.std(axis=1, ddof=1)
    half = stats.t.ppf(0.975, n - 1) * std / np.sqrt(n)
    return {"std": std, "low": mean - half, "high": mean + half}


def _history_rows(r, alive, runs):
    """One history row per epoch and candidate of round ``r``: means over the repeats."""
    rows = []
    affinity = np.stack([run["affinity"] for run in runs], axis=-1)  # epochs x cands x repeats
    mean = {part: np.mean([run[part] for run in runs], axis=0)
            for part in ("affinity", "task_affinity", "structure_affinity")}
    loss = np.mean([run["target_loss"] for run in runs], axis=0)
    for epoch in range(affinity.shape[0]):
        spread = _spread(affinity[epoch])
        for i, name in enumerate(alive):
            rows.append({
                "round": r + 1, "epoch": epoch + 1, "candidate": name,
                "affinity": mean["affinity"][epoch, i],
                "task_affinity": mean["task_affinity"][epoch, i],
                "structure_affinity": mean["structure_affinity"][epoch, i],
                "target_loss": loss[epoch], "affinity_std": spread["std"][i],
                "affinity_low": spread["low"][i], "affinity_high": spread["high"][i],
            })
    return rows


@dataclass
class _FilterState:
    """What MolGroup's iterative filtering knows after its last finished round.

    The selector's round loop reads and updates it; a checkpoint is this state
    plus a header (format, fingerprint, seed), so that a resumed selection
    continues from exactly what an uninterrupted one held.

    Parameters
    ----------
    alive : list of str
        Candidates still in the running.
    round_dropped : pandas.Series
        Per candidate, the round (1-based) after which it was dropped; NaN while alive
        and for the selected.
    rows : list of dict
        History rows of the finished rounds (see ``_HISTORY_COLUMNS``).
    final_aff : dict of str to float
        Each candidate's mean affinity in the last round it took part in.
    final_runs : dict of str to list of float
        Each candidate's affinity per repeat, same round.
    parts : dict of str to dict
        ``task_affinity`` and ``structure_affinity``: each candidate's cosine, same round.
    selected : list of str
        The selection, once finished.
    rounds_done : int
        Rounds finished.
    finished : bool
        Whether the selection is decided (last round done, or nobody left).
    """

    alive: list
    round_dropped: pd.Series
    rows: list = field(default_factory=list)
    final_aff: dict = field(default_factory=dict)
    final_runs: dict = field(default_factory=dict)
    parts: dict = field(default_factory=lambda: {"task_affinity": {},
                                                 "structure_affinity": {}})
    selected: list = field(default_factory=list)
    rounds_done: int = 0
    finished: bool = False

    @classmethod
    def start(cls, candidates):
        """The state before round 1: every candidate alive."""
        return cls(alive=list(candidates),
                   round_dropped=pd.Series(np.nan, index=list(candidates), dtype=float))

    @classmethod
    def from_checkpoint(cls, saved, candidates):
        """The state held in a checkpoint's content ``saved`` (a dict read from its JSON)."""
        round_dropped = cls.start(candidates).round_dropped
        for name, value in saved["round_dropped"].items():
            round_dropped[name] = np.nan if value is None else value
        final_aff = saved["final_aff"]
        # Checkpoints written before the repeats existed hold one run per candidate.
        final_runs = saved.get("final_runs", {n: [v] for n, v in final_aff.items()})
        return cls(alive=saved["alive"], round_dropped=round_dropped, rows=saved["rows"],
                   final_aff=final_aff, final_runs=final_runs, parts=saved["parts"],
                   selected=saved["selected"], rounds_done=saved["rounds_done"],
                   finished=saved["finished"])

    def to_checkpoint(self):
        """The state as a checkpoint's JSON content (without its header).

        Returns
        -------
        dict
            The keys ``from_checkpoint`` reads, in the order of the checkpoint file.
        """
        return {"rounds_done": self.rounds_done, "finished": self.finished,
                "alive": self.alive, "rows": self.rows, "final_aff": self.final_aff,
                "final_runs": self.final_runs, "parts": self.parts, "selected": self.selected,
                "round_dropped": {k: (None if np.isnan(v) else v)
                                  for k, v in self.round_dropped.items()}}

    def record_round(self, r, runs, gate_epochs):
        """Record round ``r``'s trainings of the alive candidates; their affinities per repeat.

        Parameters
        ----------
        r : int
            The round (0-based).
        runs : list of dict
            One per repeat, as :func:`_train_repeat` returns it.
        gate_epochs : int
            Last epochs over which each repeat's gate is averaged.

        Returns
        -------
        pandas.DataFrame
            Alive candidates x repeats: each repeat's affinity.
        """
        self.rows.extend(_history_rows(r, self.alive, runs))
        # Each repeat's affinity: its gate averaged over the last gate_epochs epochs.
        last = slice(-gate_epochs, None)
        per_run = pd.DataFrame(np.column_stack([run["affinity"][last].mean(axis=0)
                                                for run in runs]), index=self.alive)
        affinity = per_run.mean(axis=1)
        for name in self.alive:
            self.final_aff[name] = affinity[name]
            self.final_runs[name] = per_run.loc[name].tolist()
        for part in self.parts:
            mean = np.mean([run[part][last].mean(axis=0) for run in runs], axis=0)
            self.parts[part].update(zip(self.alive, mean))
        return per_run

    def keep(self, r, survivors, dropped, final):
        """Apply round ``r``'s filter: ``survivors`` stay, ``dropped`` leave."""
        self.round_dropped[dropped] = r + 1
        self.alive = [n for n in self.alive if n in survivors]
        self.rounds_done = r + 1
        self.finished = final or not self.alive
        if self.finished:
            # A round before the last that drops everyone selects nothing.
            self.selected = survivors if final else []

    def result(self, candidates):
        """The selection's :class:`SelectionResult`, fitted attributes in the order given."""
        order = list(candidates)
        history = pd.DataFrame(self.rows, columns=list(_HISTORY_COLUMNS))
        affinity = pd.Series(self.final_aff, dtype=float)
        runs = pd.DataFrame.from_dict(self.final_runs, orient="index").reindex(order)
        runs.columns = [f"repeat {k}" for k in range(runs.shape[1])]
        spread = _spread(runs.to_numpy(dtype=float))
        extra = {
            "task_affinity_": pd.Series(self.parts["task_affinity"], dtype=float,
                                        name="task_affinity").reindex(order),
            "structure_affinity_": pd.Series(self.parts["structure_affinity"], dtype=float,
                                             name="structure_affinity").reindex(order),
            "round_dropped_": self.round_dropped.rename("round_dropped"),
            "affinity_std_": pd.Series(spread["std"], index=order, name="affinity_std"),
            "affinity_interval_": pd.DataFrame({"low": spread["low"], "high": spread["high"]},
                                               index=order),
            "affinity_runs_": runs,
        }
        return SelectionResult(affinity, selected=self.selected, history=history, extra=extra,
                               ranking=survival_ranking(affinity.reindex(order),
                                                        self.round_dropped, self.selected))


_CHECKPOINT_FORMAT = "molselect-molgroup-checkpoint-v1"


def _read_checkpoint(path, fingerprint):
    """The state saved in ``path``, None when there is no such file; refuse a foreign one."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"checkpoint {path} cannot be read ({exc}); delete it to start the "
                         "selection afresh") from None
    if not isinstance(state, dict) or state.get("format") != _CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a MolGroupSelector checkpoint; delete it or pass "
                         "another checkpoint path")
    if state.get("fingerprint") != fingerprint:
        raise ValueError(
            f"checkpoint {path} was written for other data or parameters (another target, "
            "other candidates, or other settings, seed or device); delete it, or pass another "
            "checkpoint path, to start afresh")
    return state


def _write_checkpoint(path, state):
    from .._files import atomic_write_text

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # numpy floats are written as Python floats; repr round-trips them exactly.
    atomic_write_text(path, json.dumps(state, default=float) + "\n")
