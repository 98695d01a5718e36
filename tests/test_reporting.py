"""molselect.reporting: the tables the command line prints."""

from types import SimpleNamespace

import numpy as np
import pandas as pd

from molselect.reporting import selection_table


def _filtered(n_rounds):
    """A fitted selector's attributes after ``n_rounds`` filtering rounds: "c" dropped in
    round 1 with a higher affinity than the selected "a" has in the last round."""
    rounds = range(1, n_rounds + 1)
    return SimpleNamespace(
        affinity_=pd.Series({"a": 0.70, "b": 0.60, "c": 0.71}),
        round_dropped_=pd.Series({"a": np.nan, "b": float(n_rounds), "c": 1.0}),
        selected_=["a"], ranking_=["a", "b", "c"], n_rounds=n_rounds,
        history_=pd.DataFrame({"round": [r for r in rounds for _ in range(3)],
                               "candidate": ["a", "b", "c"] * n_rounds}))


def test_each_affinity_says_which_round_it_is_from():
    """Affinities of different rounds are not comparable: a dropped candidate's higher
    affinity (from an earlier round) must not read as a better score than the selection's."""
    table = selection_table(_filtered(2))
    assert list(table.columns) == ["affinity", "round", "status"]
    assert table["round"].to_dict() == {"a": 2, "b": 2, "c": 1}
    assert table.loc["c", "status"] == "dropped in round 1"
    assert table.loc["a", "status"] == "selected #1"


def test_one_round_has_no_round_column():
    table = selection_table(_filtered(1))
    assert "round" not in table.columns
    assert table.loc["c", "status"] == "not selected"


def _repeated(low, high, selected):
    """A fitted selector with intervals: candidates a, b, c with these bounds."""
    names = ["a", "b", "c"]
    interval = pd.DataFrame({"low": low, "high": high}, index=names)
    return SimpleNamespace(
        affinity_=(interval["low"] + interval["high"]) / 2, affinity_interval_=interval,
        affinity_std_=(interval["high"] - interval["low"]) / 4, selected_=selected,
        ranking_=names, affinity_runs_=pd.DataFrame(np.zeros((3, 4)), index=names))


def test_a_cut_inside_overlapping_intervals_is_called_within_noise():
    """Only the candidates whose intervals cross the cut are marked, on both sides."""
    from molselect.reporting import within_noise

    sel = _repeated(low=[0.8, 0.5, 0.1], high=[0.9, 0.7, 0.55], selected=["a", "b"])
    assert within_noise(sel) == {"b", "c"}
    table = selection_table(sel)
    assert table["status"].tolist() == ["selected #1", "selected #2, within noise",
                                        "not selected, within noise"]
    assert list(table.columns) == ["affinity", "sd", "95% CI", "status"]
    clear = _repeated(low=[0.8, 0.5, 0.1], high=[0.9, 0.7, 0.4], selected=["a", "b"])
    assert within_noise(clear) == set()
    assert within_noise(_repeated([0.8, 0.5, 0.1], [0.9, 0.7, 0.55], ["a", "b", "c"])) == set()


def test_within_noise_compares_only_the_last_rounds_candidates():
    """c, dropped in round 1, has an interval from another round: it is not compared."""
    from molselect.reporting import within_noise

    sel = _filtered(2)
    sel.affinity_interval_ = pd.DataFrame({"low": [0.65, 0.50, 0.60], "high": [0.75, 0.62, 0.80]},
                                          index=["a", "b", "c"])
    assert within_noise(sel) == set()
    sel.affinity_interval_.loc["b", "high"] = 0.66
    assert within_noise(sel) == {"a", "b"}


def test_every_selector_says_what_its_scores_mean_and_how_sure_they_are():
    from molselect.reporting import score_note
    from molselect.selectors import (FingerprintSimilaritySelector, RandomSelector,
                                     Task2VecSelector)

    fitted = {"affinity_": pd.Series({"a": 1.0}), "selected_": ["a"]}
    notes = {}
    for cls in (Task2VecSelector, FingerprintSimilaritySelector, RandomSelector):
        sel = cls()
        vars(sel).update(fitted)
        notes[cls.__name__] = score_note(sel)
    assert notes["Task2VecSelector"].startswith("affinity: minus the distance of the candidate's "
                                                "Fisher embedding")
    assert "One training, so no interval" in notes["Task2VecSelector"]
    assert "--repeats N" in notes["Task2VecSelector"]
    assert "No training and no seed" in notes["FingerprintSimilaritySelector"]
    assert "Random by design" in notes["RandomSelector"]
    repeated = Task2VecSelector(n_repeats=4)
    vars(repeated).update(vars(_repeated([0.8, 0.5, 0.1], [0.9, 0.7, 0.55], ["a", "b"])))
    note = score_note(repeated)
    assert "95% intervals over 4 repeated trainings" in note and "within noise" in note


def test_every_registered_selector_states_its_score():
    """The note under each table names what the scores are, not a generic phrase."""
    from molselect.base import BaseAuxiliarySelector
    from molselect.registry import SELECTORS

    for entry in SELECTORS.values():
        assert entry.cls._affinity_meaning != BaseAuxiliarySelector._affinity_meaning, entry.name
