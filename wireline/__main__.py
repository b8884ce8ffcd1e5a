"""``python -m wireline`` runs the command line."""

import sys

from wireline.cli import main

sys.exit(main())
