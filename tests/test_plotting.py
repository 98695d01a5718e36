"""plot_affinity: the paper's figure 8 from a MolGroup history."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from molselect.plotting import plot_affinity  # noqa: E402


@pytest.fixture
def history():
    """Three rounds: d is dropped after round 1, c after round 2."""
    rng = np.random.default_rng(0)
    rows = []
    for r, alive in [(1, "abcd"), (2, "abc"), (3, "ab")]:
        for epoch in range(1, 5):
            for name in alive:
                rows.append({"round": r, "epoch": epoch, "candidate": name,
                             "affinity": 0.4 + 0.4 * rng.random(),
                             "task_affinity": rng.uniform(-1, 1),
                             "structure_affinity": rng.uniform(-1, 1), "target_loss": 0.5})
    return pd.DataFrame(rows)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _threshold_lines(axis, value):
    return [line for line in axis.get_lines()
            if np.allclose(line.get_ydata(), value) and line.get_color() == "red"]


def test_one_panel_per_round_with_threshold(history):
    fig = plot_affinity(history, threshold=0.6)
    assert len(fig.axes) == 3
    assert [a.get_title() for a in fig.axes] == ["round 1 (4 candidates)",
                                                 "round 2 (3 candidates)",
                                                 "round 3 (2 candidates)"]
    for axis, n in zip(fig.axes, (4, 3, 2)):
        assert len(_threshold_lines(axis, 0.6)) == 1
        assert len(axis.get_lines()) == n + 1
    # d is dropped after round 1: dashed there; a survives: solid.
    styles = {tuple(line.get_ydata()): line.get_linestyle() for line in fig.axes[0].get_lines()}
    curve_d = history.query("round == 1 and candidate == 'd'").sort_values("epoch")["affinity"]
    curve_a = history.query("round == 1 and candidate == 'a'").sort_values("epoch")["affinity"]
    assert styles[tuple(curve_d)] == "--" and styles[tuple(curve_a)] == "-"
    labels = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
    assert labels == ["a", "b", "c", "d", "dropped after the round", "threshold 0.6"]


def test_candidate_keeps_its_colour_across_rounds(history):
    fig = plot_affinity(history)
    def colour_of(axis, name, r):
        curve = history.query(f"round == {r} and candidate == '{name}'").sort_values("epoch")
        for line in axis.get_lines():
            if np.allclose(line.get_ydata(), curve["affinity"]):
                return line.get_color()
        raise AssertionError(name)
    assert colour_of(fig.axes[0], "b", 1) == colour_of(fig.axes[2], "b", 3)


def test_single_axes_puts_rounds_side_by_side(history):
    fig, ax = plt.subplots()
    assert plot_affinity(history, ax=ax) is fig
    xs = np.concatenate([line.get_xdata() for line in ax.get_lines()
                         if line.get_color() != "red" and len(line.get_xdata()) == 4])
    assert xs.min() == 1 and xs.max() == 12  # 3 rounds x 4 epochs


def test_sequence_of_axes_and_too_few(history):
    fig, axes = plt.subplots(1, 3)
    assert plot_affinity(history, ax=axes) is fig
    with pytest.raises(ValueError, match="3 rounds but 2 Axes"):
        plot_affinity(history, ax=plt.subplots(1, 2)[1])


def test_other_columns_have_no_threshold(history):
    fig = plot_affinity(history, column="structure_affinity")
    assert not _threshold_lines(fig.axes[0], 0.6)
    assert "structure affinity" in fig.axes[0].get_ylabel()
    with pytest.raises(ValueError, match="no column 'gate'"):
        plot_affinity(history, column="gate")


def test_accepts_a_fitted_selector(history):
    class Fitted:
        history_ = history

    assert len(plot_affinity(Fitted(), threshold=None).axes) == 3


def test_rejects_bad_input(history):
    with pytest.raises(TypeError, match="history must be a DataFrame"):
        plot_affinity([1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        plot_affinity(history.iloc[:0])
    with pytest.raises(ValueError, match="lacks the column"):
        plot_affinity(history.drop(columns="candidate"))


def test_history_without_round_column(history):
    fig = plot_affinity(history.query("round == 1").drop(columns="round"))
    assert len(fig.axes) == 1


def test_exported_at_the_top_level():
    import molselect

    assert molselect.plot_affinity is plot_affinity
    assert "plot_affinity" in molselect.__all__


def _gains_table():
    rng = np.random.default_rng(0)
    rows = []
    for target in ("bbbp", "esol"):
        for candidate, mean in (("good", 0.05), ("bad", -0.05), ("noise", 0.0)):
            for seed in range(6):
                g = mean + 0.005 * (1 if seed % 2 else -1) * (1 + rng.random())
                rows.append(dict(target=target, candidate=candidate, seed=seed,
                                 metric="roc_auc", score_alone=0.8, score_with=0.8 + g,
                                 gain=g, relative_gain=g / 0.8))
    return pd.DataFrame(rows)


def test_transfer_heatmap_marks_cells_within_the_noise():
    from matplotlib.patches import Rectangle

    from molselect.plotting import plot_transfer_heatmap

    fig = plot_transfer_heatmap(_gains_table(), candidates=["good", "noise", "bad"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["bbbp", "esol"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["good", "noise", "bad"]
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert len(hatched) == 2   # the "noise" candidate of each target
    bold = [t for t in ax.texts if t.get_fontweight() == "bold"]
    assert len(bold) == 4


def test_transfer_gains_bars_one_target_with_intervals():
    from molselect.plotting import plot_transfer_gains

    fig = plot_transfer_gains(_gains_table(), target="esol")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["bad", "noise", "good"]
    with pytest.raises(ValueError, match="2 targets"):
        plot_transfer_gains(_gains_table())
    with pytest.raises(ValueError, match="do not cover"):
        plot_transfer_gains(_gains_table(), target="tox21")
    with pytest.raises(TypeError, match="DataFrame"):
        plot_transfer_gains([1, 2])
