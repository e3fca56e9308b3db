"""`python -m bot.cli`: the `jbl` command, as a module."""

import sys

from bot.cli import main

sys.exit(main())
