"""molselect.plotting: what each plot draws (curves, cells, bars and their whiskers, labels,
titles), checked against the data it was given."""

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


def _curves(axis):
    """The candidates' curves drawn on ``axis``: (x values, y values, line style)."""
    # Candidates are drawn in colour-map colours; the threshold ("red") and the round
    # separators ("0.6") in named ones.
    return sorted((tuple(line.get_xdata()), tuple(line.get_ydata()), line.get_linestyle())
                  for line in axis.get_lines() if not isinstance(line.get_color(), str))


def _expected_curves(history, r, column="affinity", dropped=(), offset=0):
    rows = history[history["round"] == r] if "round" in history else history
    return sorted((tuple(curve["epoch"] + offset), tuple(curve[column]),
                   "--" if name in dropped else "-")
                  for name, curve in (
                      (n, g.sort_values("epoch")) for n, g in rows.groupby("candidate")))


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
    drawn = _curves(ax)
    for r, offset, dropped in ((1, 0, "d"), (2, 4, "c"), (3, 8, "")):
        assert set(_expected_curves(history, r, dropped=dropped, offset=offset)) <= set(drawn)
    assert len(drawn) == 4 + 3 + 2
    assert [t.get_text() for t in ax.texts] == ["round 1", "round 2", "round 3"]
    separators = [line.get_xdata()[0] for line in ax.get_lines() if line.get_color() == "0.6"]
    assert separators == [4.5, 8.5]


def test_sequence_of_axes_and_too_few(history):
    fig, axes = plt.subplots(1, 3)
    assert plot_affinity(history, ax=axes) is fig
    # Each given Axes holds its own round: its title, its candidates' curves, the threshold.
    assert [a.get_title() for a in axes] == ["round 1 (4 candidates)", "round 2 (3 candidates)",
                                             "round 3 (2 candidates)"]
    for r, axis, dropped in zip((1, 2, 3), axes, ("d", "c", "")):
        assert _curves(axis) == _expected_curves(history, r, dropped=dropped)
        assert len(_threshold_lines(axis, 0.6)) == 1
    with pytest.raises(ValueError, match="3 rounds but 2 Axes"):
        plot_affinity(history, ax=plt.subplots(1, 2)[1])


def test_other_columns_have_no_threshold(history):
    fig = plot_affinity(history, column="structure_affinity")
    assert not _threshold_lines(fig.axes[0], 0.6)
    assert "structure affinity" in fig.axes[0].get_ylabel()
    # The curves are that column's values, not the affinity's.
    for r, axis, dropped in zip((1, 2, 3), fig.axes, ("d", "c", "")):
        assert _curves(axis) == _expected_curves(history, r, "structure_affinity", dropped)
    labels = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
    assert labels == ["a", "b", "c", "d", "dropped after the round"]   # no threshold entry
    with pytest.raises(ValueError, match="no column 'gate'"):
        plot_affinity(history, column="gate")


def test_accepts_a_fitted_selector(history):
    class Fitted:
        history_ = history

    fig = plot_affinity(Fitted(), threshold=None)
    assert len(fig.axes) == 3
    # The same curves as from the history itself, and threshold=None draws no line.
    for r, axis, dropped in zip((1, 2, 3), fig.axes, ("d", "c", "")):
        assert _curves(axis) == _expected_curves(history, r, dropped=dropped)
        assert len(axis.get_lines()) == len(_curves(axis))


def test_rejects_bad_input(history):
    with pytest.raises(TypeError, match="history must be a DataFrame"):
        plot_affinity([1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        plot_affinity(history.iloc[:0])
    with pytest.raises(ValueError, match="lacks the column"):
        plot_affinity(history.drop(columns="candidate"))


def test_history_without_round_column(history):
    one_round = history.query("round == 1").drop(columns="round")
    fig = plot_affinity(one_round)
    assert len(fig.axes) == 1
    (axis,) = fig.axes
    assert axis.get_title() == "round 1 (4 candidates)"
    assert _curves(axis) == _expected_curves(one_round, 1)   # all solid: nothing dropped
    labels = [t.get_text() for t in axis.get_legend().get_texts()]
    assert labels == ["a", "b", "c", "d", "threshold 0.6"]


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

    from molselect.evaluation import summarize_gains

    fig = plot_transfer_heatmap(_gains_table(), candidates=["good", "noise", "bad"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["bbbp", "esol"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["good", "noise", "bad"]
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert len(hatched) == 2   # the "noise" candidate of each target
    assert sorted(p.get_xy() for p in hatched) == [(0.5, -0.5), (0.5, 0.5)]
    bold = [t for t in ax.texts if t.get_fontweight() == "bold"]
    assert len(bold) == 4
    # Each cell shows the summary's mean relative gain, in percent, where it belongs.
    summary = summarize_gains(_gains_table()).set_index(["target", "candidate"])
    cells = {t.get_position(): t.get_text() for t in ax.texts}
    image = ax.get_images()[0].get_array()
    for i, target in enumerate(["bbbp", "esol"]):
        for j, candidate in enumerate(["good", "noise", "bad"]):
            gain = summary.loc[(target, candidate), "relative_gain"]
            assert cells[(j, i)] == f"{100 * gain:+.1f}"
            assert image[i, j] == pytest.approx(gain)
    assert cells[(0, 0)].startswith("+") and cells[(2, 0)].startswith("-")
    assert ax.get_title() == "bold: significant; hatched: no clear effect (within the noise)"
    assert fig.axes[1].get_ylabel() == "relative gain (%)"   # the colour bar


def test_transfer_gains_bars_one_target_with_intervals():
    from matplotlib.colors import to_rgba
    from matplotlib.container import BarContainer, ErrorbarContainer

    from molselect.evaluation import summarize_gains
    from molselect.plotting import plot_transfer_gains

    fig = plot_transfer_gains(_gains_table(), target="esol")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["bad", "noise", "good"]
    # Bar lengths are the mean relative gains (%), the whiskers their 95% intervals, the
    # colours the verdicts.
    summary = summarize_gains(_gains_table()).query("target == 'esol'").set_index("candidate")
    rows = summary.loc[["bad", "noise", "good"]]
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    (errorbar,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    np.testing.assert_allclose([bar.get_width() for bar in bars], 100 * rows["relative_gain"])
    (whiskers,) = errorbar.lines[2]
    ends = np.array([[segment[0][0], segment[1][0]] for segment in whiskers.get_segments()])
    np.testing.assert_allclose(ends, 100 * rows[["relative_ci_low", "relative_ci_high"]])
    assert (ends[:, 1] - ends[:, 0] > 0).all()
    assert [bar.get_facecolor() for bar in bars] == [
        to_rgba("tab:red"), to_rgba("0.6"), to_rgba("tab:green")]
    assert list(rows["verdict"]) == ["hurts", "no clear effect", "helps"]
    assert ax.get_title() == "esol: 6 seed(s), 95% intervals"
    assert ax.get_xlabel() == "relative gain in test roc_auc (%)"
    with pytest.raises(ValueError, match="2 targets"):
        plot_transfer_gains(_gains_table())
    with pytest.raises(ValueError, match="do not cover"):
        plot_transfer_gains(_gains_table(), target="tox21")
    with pytest.raises(TypeError, match="DataFrame"):
        plot_transfer_gains([1, 2])
