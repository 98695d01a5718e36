"""MolGroup's iterative filtering: the rules of a round, the state between rounds, its checkpoint.

:class:`~molselect.selectors.MolGroupSelector` trains a round and hands the
affinities here: :func:`filter_candidates` decides who stays,
:class:`_FilterState` records the round (history rows, last affinities, who
left when), and a checkpoint is that state written as JSON after each round.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._repeats import interval_attributes, spread as repeat_spread
from ..base import SelectionResult

__all__ = ["FILTER_RULES", "centred_affinity", "filter_candidates", "survival_ranking"]

#: How a round drops candidates (``MolGroupSelector(filter_rule=...)``).
FILTER_RULES = ("threshold", "relative")

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


_HISTORY_COLUMNS = ("round", "epoch", "candidate", "affinity", "task_affinity",
                    "structure_affinity", "target_loss", "affinity_std", "affinity_low",
                    "affinity_high")


def _history_rows(r, alive, runs):
    """One history row per epoch and candidate of round ``r``: means over the repeats."""
    rows = []
    affinity = np.stack([run["affinity"] for run in runs], axis=-1)  # epochs x cands x repeats
    mean = {part: np.mean([run[part] for run in runs], axis=0)
            for part in ("affinity", "task_affinity", "structure_affinity")}
    loss = np.mean([run["target_loss"] for run in runs], axis=0)
    for epoch in range(affinity.shape[0]):
        spread = repeat_spread(affinity[epoch])
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
    last_affinity : dict of str to float
        Each candidate's mean affinity in the last round it took part in.
    last_runs : dict of str to list of float
        Each candidate's affinity per repeat, same round.
    components : dict of str to dict
        ``task_affinity`` and ``structure_affinity``, the two cosines the
        affinity combines: each candidate's, same round.
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
    last_affinity: dict = field(default_factory=dict)
    last_runs: dict = field(default_factory=dict)
    components: dict = field(default_factory=lambda: {"task_affinity": {},
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
        return cls(alive=saved["alive"], round_dropped=round_dropped, rows=saved["rows"],
                   last_affinity=saved["last_affinity"], last_runs=saved["last_runs"],
                   components=saved["components"], selected=saved["selected"],
                   rounds_done=saved["rounds_done"], finished=saved["finished"])

    def to_checkpoint(self):
        """The state as a checkpoint's JSON content (without its header).

        Returns
        -------
        dict
            The keys ``from_checkpoint`` reads, in the order of the checkpoint file.
        """
        return {"rounds_done": self.rounds_done, "finished": self.finished,
                "alive": self.alive, "rows": self.rows, "last_affinity": self.last_affinity,
                "last_runs": self.last_runs, "components": self.components,
                "selected": self.selected,
                "round_dropped": {k: (None if np.isnan(v) else v)
                                  for k, v in self.round_dropped.items()}}

    def record_round(self, r, runs, gate_epochs):
        """Record round ``r``'s trainings of the alive candidates; their affinities per repeat.

        Parameters
        ----------
        r : int
            The round (0-based).
        runs : list of dict
            One per repeat, as ``_molgroup_training._train_repeat`` returns it.
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
            self.last_affinity[name] = affinity[name]
            self.last_runs[name] = per_run.loc[name].tolist()
        for component, values in self.components.items():
            mean = np.mean([run[component][last].mean(axis=0) for run in runs], axis=0)
            values.update(zip(self.alive, mean))
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
        affinity = pd.Series(self.last_affinity, dtype=float)
        runs = pd.DataFrame.from_dict(self.last_runs, orient="index").reindex(order)
        runs.columns = [f"repeat {k}" for k in range(runs.shape[1])]
        attributes = {
            "task_affinity_": pd.Series(self.components["task_affinity"], dtype=float,
                                        name="task_affinity").reindex(order),
            "structure_affinity_": pd.Series(self.components["structure_affinity"],
                                             dtype=float,
                                             name="structure_affinity").reindex(order),
            "round_dropped_": self.round_dropped.rename("round_dropped"),
            **interval_attributes(runs),
        }
        ranking = survival_ranking(affinity.reindex(order), self.round_dropped, self.selected)
        return SelectionResult(affinity, selected=self.selected, history=history,
                               attributes=attributes, ranking=ranking)


#: v2: the state's keys renamed (``last_affinity``, ``last_runs``, ``components``) and the
#: fingerprint over every parameter; a v1 file is refused.
_CHECKPOINT_FORMAT = "molselect-molgroup-checkpoint-v2"


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
    written = state.get("format") if isinstance(state, dict) else None
    if isinstance(written, str) and written.startswith("molselect-molgroup-checkpoint-") \
            and written != _CHECKPOINT_FORMAT:
        raise ValueError(f"checkpoint {path} was written by an earlier molselect ({written}); "
                         "delete it to start the selection afresh")
    if written != _CHECKPOINT_FORMAT:
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
