"""Progress bars that show on a terminal only.

A bar redrawn a hundred times a second is useful on a terminal and noise in a
log file: ``make demo > demo.log`` wrote 270 KB of bars.  tqdm shows a bar
when ``disable`` is False and, when it is None, only when its output is a
terminal (a notebook's widget bar still shows).
"""

from __future__ import annotations

__all__ = ["progress_disabled"]


def progress_disabled(verbose):
    """tqdm's ``disable`` for a ``verbose`` flag: None (a terminal decides) or True.

    Parameters
    ----------
    verbose : bool
        Whether the caller reports progress at all.

    Returns
    -------
    bool or None
        True when ``verbose`` is false; None otherwise, so that tqdm draws the
        bar only when its stream is a terminal (or a notebook).
    """
    return None if verbose else True
