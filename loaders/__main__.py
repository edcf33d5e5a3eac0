"""`python -m loaders`: a thin command-line face over the loaders and store functions."""

from __future__ import annotations

import sys

from loaders.cli import main

if __name__ == "__main__":
    sys.exit(main())
