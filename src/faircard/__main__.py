"""``python -m faircard``: the same command line as the ``faircard`` script."""

import sys

from faircard.cli import main

sys.exit(main())
