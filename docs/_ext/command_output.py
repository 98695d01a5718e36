"""Sphinx directive ``command-output``: a ``molselect`` command and what it printed.

A console block whose output was typed by hand drifts from what the command
prints (a table of invented numbers stayed in the quick start after the
command changed).  This directive runs the command when the page is built and
shows its real output::

    .. command-output:: molselect select --target bbbp \\
          --candidates bace,clintox,esol,tox21 --method task-type --seed 0
       :ellipsis: 8, -3

renders::

    $ molselect select --target bbbp \\
          --candidates bace,clintox,esol,tox21 --method task-type --seed 0
    <the first 8 lines of what it printed>
    ...
    <its last 3 lines>

Options
-------
``:ellipsis: N`` or ``:ellipsis: START, END``
    Show only the first ``N`` lines (``N`` negative: all but the last ``-N``),
    or the lines before ``START`` and from ``END`` on (``END`` negative counts
    from the end); the lines left out become ``...``.
``:returncode: N``
    The exit code the command is meant to end with (default 0), for a block
    that shows an error message.
``:env: NAME=VALUE ...``
    Environment variables set for the run, shown as ``$ export`` lines above
    the command.

The command runs in this process (:func:`molselect.cli.main`, standard output
and standard error captured together, in the order a terminal shows them), in
an empty temporary working folder, with the ``command_output_env`` of
``conf.py`` set unless ``:env:`` sets the same variable.  A command that ends
with another exit code, or raises, is a Sphinx warning, so that ``sphinx -W``
fails.  With ``command_output_run = False`` (``MOLSELECT_DOCS_PLOT=0``) nothing
runs and the block shows the command with :data:`PLACEHOLDER`.

A page with such a block is read again when a source file of the installed
``molselect`` package changes, so that an incremental build never keeps an
output of older code.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shlex
import tempfile
import time
import traceback
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

__all__ = ["PLACEHOLDER", "split_command", "run_command", "elide", "setup"]

logger = logging.getLogger(__name__)

#: What a block shows instead of the output when the commands are not run.
PLACEHOLDER = "(output generated when the docs are built with examples)"

#: Width of the terminal the commands see (argparse and pandas wrap to it);
#: the command-line reference's help pages use the same.
COLUMNS = "88"

_CONTINUATION = re.compile(r"\\\s*\n\s*")


def split_command(command):
    """The argument list of a command line, with its ``\\`` line continuations joined.

    Parameters
    ----------
    command : str
        The command as written in the directive, possibly over several lines
        that end with ``\\``.

    Returns
    -------
    list of str
        As a POSIX shell splits it (:func:`shlex.split`).
    """
    return shlex.split(_CONTINUATION.sub(" ", command))


def _display_command(command):
    # Keep the author's line breaks, but indent the continued lines the same way
    # everywhere, whatever the indentation of the directive in the source.
    parts = [part.strip() for part in _CONTINUATION.split(command.strip())]
    return " \\\n      ".join(parts)


def run_command(command, env=None):
    """Run a ``molselect`` command in this process and capture what it prints.

    Parameters
    ----------
    command : str
        A command line that starts with ``molselect`` (``\\`` continuations allowed).
    env : dict of str to str, optional
        Environment variables set while it runs; ``{workdir}`` in a value is
        replaced by the temporary working folder.  The environment and the
        working folder are restored afterwards.

    Returns
    -------
    returncode : int
        The exit code :func:`molselect.cli.main` returned (or argparse exited
        with); 1 with the traceback in ``output`` if the command raised.
    output : str
        Standard output and standard error, together and in the order they
        were written; trailing spaces, and blank lines at the start and the
        end, removed.

    Raises
    ------
    ValueError
        If the command is not a ``molselect`` command.
    """
    argv = split_command(command)
    if not argv or argv[0] != "molselect":
        raise ValueError(f"command-output runs molselect commands only, not {command!r}")
    # Imported here so that merely loading the extension does not import torch.
    from molselect.cli import main

    buffer = io.StringIO()
    previous_cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="molselect-docs-") as workdir:
        values = {"COLUMNS": COLUMNS}
        values.update({name: str(value).replace("{workdir}", workdir)
                       for name, value in (env or {}).items()})
        saved = {name: os.environ.get(name) for name in values}
        os.environ.update(values)
        os.chdir(workdir)
        try:
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
                try:
                    returncode = main(argv[1:])
                except SystemExit as exc:  # argparse: --help, or a bad option
                    if exc.code is None or isinstance(exc.code, int):
                        returncode = exc.code or 0
                    else:
                        print(exc.code, file=buffer)
                        returncode = 1
                except Exception:  # noqa: BLE001 - the page shows it and the build warns
                    traceback.print_exc(file=buffer)
                    returncode = 1
        finally:
            os.chdir(previous_cwd)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    # Blank lines around the output would only pad the block on the page.
    return int(returncode or 0), "\n".join(line.rstrip() for line in
                                           buffer.getvalue().splitlines()).strip("\n")


def _parse_ellipsis(argument):
    parts = [part.strip() for part in (argument or "").split(",")]
    if not 1 <= len(parts) <= 2:
        raise ValueError("give one or two integers, as in ':ellipsis: 5' or ':ellipsis: 5, -2'")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        raise ValueError(f"not integers: {argument!r}") from None
    return tuple(numbers) if len(numbers) == 2 else (numbers[0], None)


def elide(lines, start, end=None):
    """Leave out lines of an output, marking the gap with ``...``.

    Parameters
    ----------
    lines : list of str
    start : int
        The lines before this index are kept (a negative index counts from the end).
    end : int, optional
        The lines from this index on are kept too (negative: from the end);
        without it, nothing after the gap is kept.

    Returns
    -------
    list of str
        ``lines`` unchanged when nothing would be left out.
    """
    n = len(lines)
    first = start if start >= 0 else max(n + start, 0)
    last = n if end is None else (end if end >= 0 else max(n + end, 0))
    if first >= last:
        return list(lines)
    return list(lines[:first]) + ["..."] + list(lines[last:])


def _parse_env(argument):
    values = {}
    for item in shlex.split(argument or ""):
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"not NAME=VALUE: {item!r}")
        values[name] = value
    return values


def _source_stamp():
    # A digest of the installed molselect package (code and bundled data): when it
    # changes, the pages whose outputs it printed are read, and their commands run, again.
    import molselect

    digest = hashlib.sha256()
    package = Path(molselect.__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


class CommandOutput(SphinxDirective):
    """The ``command-output`` directive (see the module's docstring)."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {
        "ellipsis": directives.unchanged_required,
        "returncode": int,
        "env": directives.unchanged_required,
    }

    def run(self):
        config = self.env.config
        command = self.arguments[0]
        try:
            ellipsis = _parse_ellipsis(self.options["ellipsis"]) if "ellipsis" in self.options \
                else None
            shown_env = _parse_env(self.options.get("env"))
            # Checked in both modes, so that a quick build already refuses what a full one would.
            if split_command(command)[:1] != ["molselect"]:
                raise ValueError(f"runs molselect commands only, not {command!r}")
        except ValueError as exc:
            raise self.error(f"command-output: {exc}") from None
        expected = self.options.get("returncode", 0)

        prompt = [f"$ export {name}={shlex.quote(value)}" for name, value in shown_env.items()]
        prompt.append("$ " + _display_command(command))
        if config.command_output_run:
            if not hasattr(self.env, "command_output_stamps"):
                self.env.command_output_stamps = {}
            self.env.command_output_stamps[self.env.docname] = _source_stamp()
            started = time.perf_counter()
            returncode, output = run_command(command,
                                             env={**config.command_output_env, **shown_env})
            elapsed = time.perf_counter() - started
            one_line = shlex.join(split_command(command))
            logger.info("command-output: %s (%.1f s, exit code %d)", one_line, elapsed, returncode)
            if returncode != expected:
                last = "\n".join(output.splitlines()[-10:])
                logger.warning("command-output: `%s` exited with %d, not %d; its last lines:\n%s",
                               one_line, returncode, expected, last,
                               location=self.get_location(),
                               type="command_output", subtype="failed")
            lines = output.splitlines()
            if ellipsis is not None:
                lines = elide(lines, *ellipsis)
        else:
            lines = [PLACEHOLDER]

        text = "\n".join(prompt + lines)
        block = nodes.literal_block(text, text, language="console")
        self.set_source_info(block)
        return [block]


def _outdated(app, env, added, changed, removed):
    stamps = getattr(env, "command_output_stamps", {})
    if not stamps or not app.config.command_output_run:
        return []
    current = _source_stamp()
    return [docname for docname, stamp in stamps.items()
            if stamp != current and docname not in removed]


def _purge(app, env, docname):
    getattr(env, "command_output_stamps", {}).pop(docname, None)


def _merge(app, env, docnames, other):
    # Parallel reading: every process recorded the stamps of the pages it read.
    if not hasattr(env, "command_output_stamps"):
        env.command_output_stamps = {}
    env.command_output_stamps.update({docname: stamp for docname, stamp
                   in getattr(other, "command_output_stamps", {}).items()
                   if docname in docnames})


def setup(app):
    """Register the directive, its configuration values and the re-read rule."""
    app.add_config_value("command_output_run", True, "env", types=[bool])
    app.add_config_value("command_output_env", {}, "env", types=[dict])
    app.add_directive("command-output", CommandOutput)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
