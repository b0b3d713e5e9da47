"""``python -m faircard``: the same command line as the ``faircard`` script."""

import sys

from faircard.cli import main

if __name__ == "__main__":  # importing the module (a walk over the package) runs nothing
    sys.exit(main())
