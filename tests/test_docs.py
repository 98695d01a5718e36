"""Build the documentation and look at it in headless Chromium; check its sources.

The build is slow (it builds the docs with the gallery executed; incremental
after the first build), so its test is marked ``docs``: deselect it with
``-m "not docs"``.  It skips when Sphinx or Chromium is missing, unless
``MOLSELECT_REQUIRE_DOCS=1`` (as in CI), where a missing tool is a failure.
Screenshots are saved under ``docs/_build/screenshots/``.  The checks of the
sources (the ``.rst``, ``.md`` and ``.inc`` files, read with docutils or a
regular expression, no Sphinx) are cheap and not marked.
"""

import functools
import http.server
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
HTML = DOCS / "_build" / "html"
SHOTS = DOCS / "_build" / "screenshots"

#: page -> (text it must contain, minimum number of PNG images on it)
PAGES = {
    "index.html": ("Choose the auxiliary molecule datasets", 1),
    "generated/molselect.MolGroupSelector.html": ("Examples using", 1),
    "auto_examples/plot_quickstart.html": ("Affinity learning curves", 1),
    "user_guide/method.html": ("Routing (eq. 2)", 0),
}


def _missing(reason):
    if os.environ.get("MOLSELECT_REQUIRE_DOCS") == "1":
        pytest.fail(f"{reason} (MOLSELECT_REQUIRE_DOCS=1 requires the docs check)")
    pytest.skip(reason)


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class _Images(HTMLParser):
    """The ``src`` of every image and of every script of a page."""

    def __init__(self):
        super().__init__()
        self.sources = []
        self.scripts = []

    def handle_starttag(self, tag, attrs):
        src = dict(attrs).get("src")
        if tag == "img" and src:
            self.sources.append(src)
        elif tag == "script" and src:
            self.scripts.append(src)


def _png_size(path):
    """(width, height) of a PNG file, from its IHDR chunk; None if it is not a PNG."""
    with open(path, "rb") as handle:
        head = handle.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def _not_blank(path):
    """Whether a screenshot shows something: several colours, dark and light pixels."""
    from PIL import Image

    with Image.open(path) as image:
        grey = image.convert("L")
        low, high = grey.getextrema()
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    return high - low > 100 and (colours is None or len(colours) > 20)


@pytest.fixture
def built_docs():
    """Build the docs as ``make docs`` does: warnings are errors, gallery executed."""
    try:
        import numpydoc  # noqa: F401
        import pydata_sphinx_theme  # noqa: F401
        import sphinx  # noqa: F401
        import sphinx_gallery  # noqa: F401
    except ImportError as exc:
        _missing(f"the docs extra is not installed ({exc.name}): pip install -e '.[docs]'")
    if _chromium() is None:
        _missing("no headless Chromium found (apt-get install -y chromium)")
    env = dict(os.environ, MPLBACKEND="Agg", MOLSELECT_DOCS_PLOT="1")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", str(DOCS),
         str(HTML)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, (
        "the documentation build failed or warned:\n" + result.stdout[-6000:]
        + result.stderr[-6000:])
    return HTML


@pytest.fixture
def server(built_docs):
    handler = functools.partial(_QuietHandler, directory=str(built_docs))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


def _chromium_run(url, tmp_path, *options):
    """Run headless Chromium on ``url`` with ``options``; return its completed process."""
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        # Give the theme's scripts (and MathJax) time to lay the page out.
        "--virtual-time-budget=5000", *options, url,
    ]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        pytest.fail(f"Chromium did not finish {url} within 180 s")


def _screenshot(url, path, tmp_path):
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    result = _chromium_run(url, tmp_path, f"--screenshot={path}", "--window-size=1280,2000")
    assert path.exists(), f"no screenshot of {url}: {result.stderr[-2000:]}"
    return path


def _check_page(page, server, built_docs, tmp_path):
    """Fetch ``page``, check its text and PNG images, screenshot it; return the problems."""
    text, min_images = PAGES[page]
    url = urljoin(server, page)
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        html = response.read().decode("utf-8")
    problems = []
    if text not in html:
        problems.append(f"{page} lacks {text!r}")

    parser = _Images()
    parser.feed(html)
    # Offline readers (and these machines) reach no CDN: every script, MathJax
    # included, must come from the build itself.
    remote = [src for src in parser.scripts if urlparse(urljoin(url, src)).netloc
              != urlparse(server).netloc]
    if remote:
        problems.append(f"{page} loads scripts from another host: {remote}")
    pngs = []
    for src in parser.sources:
        target = urlparse(urljoin(url, src))
        if target.netloc != urlparse(server).netloc or not target.path.endswith(".png"):
            continue
        local = built_docs / target.path.lstrip("/")
        size = _png_size(local) if local.is_file() else None
        if size is None:
            problems.append(f"{page}: image {src} is missing from the build or not a PNG")
            continue
        if min(size) < 50 or local.stat().st_size < 2000:
            problems.append(f"{page}: {src} is a trivial image ({size}, "
                            f"{local.stat().st_size} bytes)")
            continue
        with urllib.request.urlopen(urljoin(url, src), timeout=30) as response:
            if response.status != 200:
                problems.append(f"{page}: {src} is not served ({response.status})")
                continue
        pngs.append(src)
    if len(pngs) < min_images:
        problems.append(f"{page} shows {len(pngs)} PNG image(s), expected {min_images}: "
                        f"{parser.sources}")

    shot = SHOTS / (page.replace("/", "_").replace(".html", "") + ".png")
    _screenshot(url, shot, tmp_path)
    if _png_size(shot) != (1280, 2000):
        problems.append(f"the screenshot of {page} has size {_png_size(shot)}")
    elif not _not_blank(shot):
        problems.append(f"the screenshot of {page} is blank: {shot}")
    return problems


# One test, not one per page: under pytest-xdist, separate tests could land on two
# workers and run two Sphinx builds into the same folder at once.
@pytest.mark.docs
def test_docs_build_and_render(server, built_docs, tmp_path):
    problems = []
    for page in PAGES:
        problems += _check_page(page, server, built_docs, tmp_path)

    api = (built_docs / "generated" / "molselect.MolGroupSelector.html").read_text()
    for name in ("fit_transform", "selected_", "history_", "round_dropped_", "n_rounds"):
        if name not in api:
            problems.append(f"the MolGroupSelector page does not mention {name}")
    # The formulas are typeset by the bundled MathJax (no network), not left as TeX.
    dom = _chromium_run(urljoin(server, "user_guide/method.html"), tmp_path, "--dump-dom").stdout
    if "mjx-container" not in dom:
        problems.append("user_guide/method.html: MathJax did not typeset the formulas "
                        "(no mjx-container in the rendered page)")
    cli = (built_docs / "cli.html").read_text()
    for option in ("--max-molecules", "--candidates", "--with", "--seeds"):
        if option not in cli:
            problems.append(f"the command-line reference lacks {option}")
    assert not problems, "\n".join(problems)


# -- The sources, without Sphinx -------------------------------------------------------------

#: What the build writes under docs/ (not sources): folders, and the gallery's timings.
GENERATED = {"_build", "generated", "auto_examples", "sg_execution_times.rst"}


def _sources(*suffixes):
    """The documentation's source files with those suffixes, generated ones left out."""
    return sorted(p for p in DOCS.rglob("*") if p.suffix in suffixes
                  and not GENERATED & set(p.relative_to(DOCS).parts))


def _docutils():
    """docutils' parser and node classes (docutils comes with Sphinx)."""
    try:
        from docutils import nodes
        from docutils.core import publish_doctree
    except ImportError:
        _missing("docutils is not installed (it comes with Sphinx): pip install -e '.[docs]'")
    return publish_doctree, nodes


def test_no_table_cell_is_a_bullet_list():
    """A list-table cell written ``- -`` is an empty bullet list, not a dash: write ``\\-``."""
    publish_doctree, nodes = _docutils()
    bad = []
    for path in _sources(".rst"):
        # Sphinx's own roles and directives stay (silenced) error nodes; docutils' own
        # (list-table, include) are parsed.
        tree = publish_doctree(path.read_text(), source_path=str(path),
                               settings_overrides={"report_level": 5, "halt_level": 5})
        bad += [f"{path.relative_to(ROOT)}:{bullets.line or entry.line or '?'}"
                for entry in tree.findall(nodes.entry)
                for bullets in entry.findall(nodes.bullet_list)]
    assert not bad, "table cells rendered as bullet lists:\n" + "\n".join(bad)


#: Internal references no page may show: issue numbers, and the reliability reviews'
#: probe ids.  A rank (``rank #1``, ``selected #1-#3``) is not a reference.
INTERNAL_REFERENCE = re.compile(
    r"\bissues?[- ]?#?\d+|(?<!rank )(?<!selected )(?<!-)#\d+\b"
    r"|\b(?:CLI|CSV|CHEM|SPLIT|EVAL|CONC|DASK|SK)-\d\d\b", re.IGNORECASE)


def test_no_page_speaks_of_issue_numbers_or_probe_ids():
    """The docs (and the changelog, which docs/changelog.md includes) are for users."""
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in _sources(".rst", ".md", ".inc") + [ROOT / "CHANGELOG.md"]
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if INTERNAL_REFERENCE.search(line)]
    assert not found, "internal references in the docs:\n" + "\n".join(found)


def test_internal_reference_pattern():
    for text in ("the issue-14 review", "issue 22", "see #22", "Issue #7", "probes CLI-04",
                 "(CONC-05)", "sk-12"):
        assert INTERNAL_REFERENCE.search(text), text
    for text in ("rank #1", "selected #1-#3", "an issue with the cache", "ISO-8601",
                 "Python 3.10", "page.html#section"):
        assert not INTERNAL_REFERENCE.search(text), text


def _toctree(path):
    """The entries of the toctree directives of one .rst page."""
    entries, inside = [], False
    for line in path.read_text().splitlines():
        if line.strip().startswith(".. toctree::"):
            inside = True
        elif inside and line and not line[0].isspace():
            inside = False
        elif inside and line.strip() and not line.strip().startswith(":"):
            entries.append(line.strip())
    return entries


def test_the_decision_box_and_the_interpreting_page_are_shown():
    """One answer to "which selector?", in the box both entry pages include; and the page
    for chemists on reading results is reachable from the table of contents."""
    include = re.compile(r"^\.\. include:: _includes/which_selector\.inc\s*$", re.MULTILINE)
    for page in ("index.rst", "quickstart.rst"):
        assert include.search((DOCS / page).read_text()), f"docs/{page} lacks the box"
    assert "user_guide/index" in _toctree(DOCS / "index.rst")
    assert "interpreting" in _toctree(DOCS / "user_guide" / "index.rst")
