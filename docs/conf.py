"""Sphinx configuration of the molselect documentation.

Build with ``make docs`` (warnings are errors, gallery executed, and the
commands of the ``command-output`` blocks run).  Set ``MOLSELECT_DOCS_PLOT=0``
to build without running the examples or the commands (e.g. while editing
prose); the gallery then shows code without outputs, and a command block its
command with a placeholder.
"""

import os
import sys
from pathlib import Path

# The gallery's models are tiny: intra-op threads do not speed them up, and on a busy
# machine their spin-waiting slowed the examples down several-fold.  A value set by the
# caller wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import molselect  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# For _gallery_order, which sphinx-gallery imports by name.
sys.path.insert(0, str(Path(__file__).resolve().parent))
# For the project's own extensions (command_output).
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "molselect"
author = "molselect developers"
copyright = "2024-2025, molselect developers"
version = release = molselect.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # A bundled MathJax, copied into _static: the formulas render without a network
    # (the docs are read on machines without internet, and offline the CDN's math was raw TeX).
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    # ``.. command-output::``: a command's console block with the output it prints
    # when the docs are built, so that no shown output is typed by hand.
    "command_output",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "generated/backreferences/*.examples"]
# No intersphinx: the docs must build offline, and an unreachable inventory is a warning.

# -- autodoc / autosummary / numpydoc ----------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
# The class template lists methods itself; numpydoc's own member tables would
# duplicate them and point at stub pages that do not exist.
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- sphinx-gallery ----------------------------------------------------------------------
_plot = os.environ.get("MOLSELECT_DOCS_PLOT", "1") != "0"

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "_gallery_order.ExampleOrder",
    "plot_gallery": _plot,
    # An example that fails must fail the build, not leave a silent gap.
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "doc_module": ("molselect",),
    "backreferences_dir": "generated/backreferences",
    "inspect_global_variables": False,
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    "show_memory": False,
    "download_all_examples": False,
    "default_thumb_file": None,
    "min_reported_time": 1,
}

# -- command-output ----------------------------------------------------------------------
# The commands run with the gallery (MOLSELECT_DOCS_PLOT=0 shows a placeholder instead),
# and see an empty data home of their own: they print what a fresh install prints, on
# the bundled datasets, whatever the machine that builds the docs has downloaded.
command_output_run = _plot
command_output_env = {"MOLSELECT_DATA": "{workdir}/data"}

# -- MyST (the changelog is Markdown) ----------------------------------------------------
myst_heading_anchors = 3
# CHANGELOG.md starts at "#" and steps to "###" under a release heading, as Keep a
# Changelog does; that is intended, not a broken outline.
suppress_warnings = ["myst.header"]
if not _plot:
    # Without the gallery its figures are not made (the index shows one); the full build
    # (``make docs``) still fails on a missing image.
    suppress_warnings.append("image.not_readable")

# -- HTML --------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"molselect {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_sidebars = {"index": [], "install": [], "quickstart": [], "changelog": []}
html_show_sourcelink = True
html_copy_source = False


# -- command-line help, generated so the reference never drifts from the parser -----------
def _write_cli_help():
    from molselect.cli import build_parser

    out = Path(__file__).resolve().parent / "generated" / "cli"
    out.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal; fix it for the page
    try:
        parser = build_parser()
        texts = {"molselect": parser.format_help()}
        subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
        for name, sub in subparsers.choices.items():
            texts[name] = sub.format_help()
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    for name, text in texts.items():
        path = out / f"{name}.txt"
        # Rewriting an unchanged file would make Sphinx re-read the pages that include it.
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


_write_cli_help()


# -- the selector table, generated from the registry (molselect.registry.SELECTORS) -------
def _write_selector_table():
    from molselect.registry import SELECTORS

    api = (Path(__file__).resolve().parent / "api.rst").read_text()
    rows = {}  # class name -> (its --method names, description)
    for entry in SELECTORS.values():
        names, description = rows.setdefault(entry.class_name, ([], []))
        names.append(f"``{entry.name}``")
        if entry.description:
            description.append(entry.description)
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 25 12 63", "",
             "   * - Selector", "     - ``--method``", "     - What it scores"]
    for class_name, (names, description) in rows.items():
        # Link the class where the API reference documents it.
        if f"\n   {class_name}\n" in api:
            where = "molselect"
        elif f"\n   evaluation.{class_name}\n" in api:
            where = "molselect.evaluation"
        else:
            where = "molselect.selectors"
        lines += [f"   * - :class:`~{where}.{class_name}`", f"     - {', '.join(names)}",
                  f"     - {' '.join(description)}"]
    text = "\n".join(lines) + "\n"
    path = Path(__file__).resolve().parent / "generated" / "selectors_table.rst"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


_write_selector_table()
