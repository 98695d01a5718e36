"""SIGTERM as an exception: the one mechanism of the command line and the parallel featurizer.

SIGTERM's default action ends the process at once: no ``finally`` runs, no
partial file is removed, and joblib's worker processes (and their resource
trackers) are left behind until loky's idle timeout.  Within
:func:`sigterm_raises`, SIGTERM raises :class:`Terminated` instead, a
:class:`KeyboardInterrupt`, so the clean-up that Ctrl-C runs also runs on
SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading

__all__ = ["Terminated", "sigterm_raises"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs (joblib workers included)."""


@contextlib.contextmanager
def sigterm_raises(*, only_if_default=False, redeliver=False):
    """Within the block, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt).

    The previous handler is restored on leaving the block.  Signal handlers
    can only be set in the main thread: elsewhere nothing is installed.

    Parameters
    ----------
    only_if_default : bool, default False
        Install the handler only where SIGTERM still has its default action,
        leaving a handler someone else set (the command line's) in charge.
    redeliver : bool, default False
        After restoring the previous handler, send SIGTERM to this process
        again if it was received in the block: with the default action the
        process still ends as terminated, once the clean-up has run.

    Yields
    ------
    bool
        Whether the handler was installed.
    """
    if threading.current_thread() is not threading.main_thread() or (
            only_if_default and signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield False
        return
    received = []

    def handler(signum, frame):
        received.append(signum)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield True
    finally:
        # None: a handler that was not set from Python; the default is the closest.
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
        if received and redeliver:
            os.kill(os.getpid(), signal.SIGTERM)
