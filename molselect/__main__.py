"""``python -m molselect``: the ``molselect`` command."""

import sys

from .cli import main

sys.exit(main())
