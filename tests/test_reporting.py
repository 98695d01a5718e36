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
