"""The docs' ``command-output`` directive (docs/_ext/command_output.py), without a docs build.

The pages show command outputs that this directive generates when they are built; these
tests check that it shows what the command really prints, that a failing command fails the
build, and that a placeholder stands in when the commands are not run.  Fast: the commands
are ``molselect datasets`` and errors, and the Sphinx projects are one page.
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")

EXT = Path(__file__).resolve().parents[1] / "docs" / "_ext"


@pytest.fixture
def ext(monkeypatch):
    monkeypatch.syspath_prepend(str(EXT))
    import command_output

    return command_output


def _normalised(text):
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def test_run_command_returns_what_the_command_prints(ext, tmp_path):
    home = tmp_path / "home"
    returncode, output = ext.run_command("molselect datasets",
                                         env={"MOLSELECT_DATA": str(home)})
    # The same command in a separate process, as a user runs it.
    env = dict(os.environ, MOLSELECT_DATA=str(home), COLUMNS=ext.COLUMNS)
    real = subprocess.run([sys.executable, "-m", "molselect", "datasets"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert real.returncode == returncode == 0
    assert output == _normalised(real.stdout + real.stderr)
    assert "bbbp" in output and f"data home: {home}" in output


def test_run_command_reports_a_failing_command(ext):
    cwd = os.getcwd()
    environ = {name: os.environ.get(name) for name in ("COLUMNS", "MOLSELECT_DATA")}
    returncode, output = ext.run_command(
        "molselect select --target bbbp --candidates toxcats --method task-type")
    assert returncode == 2
    assert "unknown dataset 'toxcats'" in output
    # argparse's own error exits (SystemExit) and is captured too.
    returncode, output = ext.run_command("molselect select --no-such-option")
    assert returncode == 2 and "usage: molselect select" in output
    assert os.getcwd() == cwd
    assert {name: os.environ.get(name) for name in environ} == environ


def test_run_command_works_in_an_empty_folder_and_substitutes_it(ext):
    returncode, output = ext.run_command("molselect datasets",
                                         env={"MOLSELECT_DATA": "{workdir}/data"})
    assert returncode == 0
    home = output.rsplit("data home: ", 1)[1].split(" ", 1)[0]
    assert Path(home).name == "data" and Path(home).parent.name.startswith("molselect-docs-")
    assert not Path(home).parent.exists()  # removed after the run


def test_run_command_refuses_other_programs(ext):
    with pytest.raises(ValueError, match="molselect commands only"):
        ext.run_command("rm -rf build")


def test_split_command_joins_continued_lines(ext):
    command = "molselect select --target bbbp \\\n      --candidates 'a b.csv' --seed 0"
    assert ext.split_command(command) == ["molselect", "select", "--target", "bbbp",
                                          "--candidates", "a b.csv", "--seed", "0"]


def test_elide(ext):
    lines = list("abcdef")
    assert ext.elide(lines, 2) == ["a", "b", "..."]
    assert ext.elide(lines, 2, -2) == ["a", "b", "...", "e", "f"]
    assert ext.elide(lines, -2) == ["a", "b", "c", "d", "..."]
    assert ext.elide(lines, 0, -1) == ["...", "f"]
    assert ext.elide(lines, 10) == lines and ext.elide(lines, 3, 3) == lines


PAGE = """\
Page
====

.. command-output:: molselect datasets
   :ellipsis: 3, -1
   :env: MOLSELECT_DATA=/data/moleculenet

.. command-output:: molselect select --target bbbp \\
      --candidates toxcats --method task-type
   :returncode: 2

.. command-output:: molselect select --target bbbp --candidates toxcats --method task-type
"""


def _build(tmp_path, run):
    from sphinx.application import Sphinx

    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXT)!r})\n"
        "extensions = ['command_output']\n"
        f"command_output_run = {run}\n"
        "command_output_env = {'MOLSELECT_DATA': '{workdir}/data'}\n")
    (src / "index.rst").write_text(PAGE)
    warnings = io.StringIO()
    app = Sphinx(str(src), str(src), str(tmp_path / "out"), str(tmp_path / "doctrees"), "text",
                 status=io.StringIO(), warning=warnings, freshenv=True)
    app.build()
    # A second Sphinx application in one process warns that docutils nodes are registered
    # again; only the directive's own warnings matter here.
    ours = [line for line in warnings.getvalue().splitlines() if "WARNING: command-output:" in line]
    return (tmp_path / "out" / "index.txt").read_text(), "\n".join(ours)


def test_directive_renders_the_output_and_warns_on_failure(ext, tmp_path):
    text, warnings = _build(tmp_path, run=True)
    assert "$ export MOLSELECT_DATA=/data/moleculenet\n   $ molselect datasets" in text
    # The first 3 lines, "...", and the last: the data home the :env: option set.
    assert "   ...\n   data home: /data/moleculenet (downloaded datasets; set MOLSELECT_DATA to change it)" in text
    assert "$ molselect select --target bbbp \\\n         --candidates toxcats" in text
    assert text.count("unknown dataset 'toxcats'") == 2
    # Only the block that did not declare exit code 2 warns, at its line of the page.
    assert warnings.count("WARNING") == 1
    assert "index.rst:12: WARNING" in warnings and "exited with 2, not 0" in warnings


def test_directive_shows_a_placeholder_when_commands_do_not_run(ext, tmp_path):
    text, warnings = _build(tmp_path, run=False)
    assert text.count(ext.PLACEHOLDER) == 3
    assert "unknown dataset" not in text and "WARNING" not in warnings
