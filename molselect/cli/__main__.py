"""``python -m molselect.cli``: the ``molselect`` command."""

import sys

from . import main

sys.exit(main())
