"""``python -m shiftboard`` and the ``shiftboard`` command."""

import gc
import sys


def main() -> int:
    # Before the imports, which are most of a start-up: see cli.main for why the cyclic collector waits.
    gc.disable()
    from shiftboard.cli import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
