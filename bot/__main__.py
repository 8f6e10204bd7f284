"""`python -m bot` runs the `tiendo` command line."""

import sys

from bot.cli import main

sys.exit(main())
