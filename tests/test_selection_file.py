"""molselect._selection_file: the selection file that ``molselect select`` writes."""

from molselect._selection_file import source_for


def test_select_records_csv_sources_relative_to_the_json(tmp_path, monkeypatch):
    """Probe 127: the recorded path must not depend on the folder `select` ran in."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "c.csv").write_text("smiles,y\nCCO,1\n")
    assert source_for("data/c.csv", tmp_path / "out" / "r.json") == "../data/c.csv"
    assert source_for("bace", tmp_path / "out" / "r.json") == "bace"
