"""``python -m neuralmag`` runs the command line (see :mod:`neuralmag.cli`)."""

import sys

from neuralmag.cli import main

sys.exit(main())
