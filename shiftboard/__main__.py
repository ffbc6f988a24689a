"""``python -m shiftboard`` is the ``shiftboard`` command."""

import sys

from shiftboard.cli import main

sys.exit(main())
