"""molselect._signals: the one SIGTERM mechanism (the command line and the featurizer).

The end-to-end behaviour is in test_cli.py (probe 99: the command line exits 143) and
test_featurize.py (probe 100: no parallel workers left behind).
"""

import os
import signal
import threading
import time

import pytest

from molselect._signals import Terminated, sigterm_raises


def _sigterm_self():
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
    raise AssertionError("SIGTERM was not handled")


@pytest.fixture
def recording_handler():
    """A SIGTERM handler of our own for the test, the old one restored after."""
    received = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    yield received
    signal.signal(signal.SIGTERM, before)


def test_sigterm_raises_terminated_and_the_handler_is_restored(recording_handler):
    mine = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated):
        with sigterm_raises() as installed:
            assert installed
            _sigterm_self()
    assert issubclass(Terminated, KeyboardInterrupt)  # so Ctrl-C's clean-up runs
    assert signal.getsignal(signal.SIGTERM) is mine and recording_handler == []


def test_redeliver_sends_the_signal_to_the_restored_handler(recording_handler):
    with pytest.raises(Terminated):
        with sigterm_raises(redeliver=True):
            _sigterm_self()
    assert recording_handler == [signal.SIGTERM]


def test_only_if_default_leaves_a_handler_of_someone_else(recording_handler):
    mine = signal.getsignal(signal.SIGTERM)
    with sigterm_raises(only_if_default=True) as installed:
        assert not installed and signal.getsignal(signal.SIGTERM) is mine


def test_nothing_is_installed_outside_the_main_thread():
    seen = []

    def run():
        with sigterm_raises() as installed:
            seen.append(installed)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [False]
