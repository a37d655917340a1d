"""`python -m bot ...`: the command line, built by the composition root (`bot/app.py`)."""

from __future__ import annotations

import sys

from bot.app import main

if __name__ == "__main__":
    sys.exit(main())
