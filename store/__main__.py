"""`python -m store`: accounts and screen tokens (a thin face over store.accounts)."""

import sys

from store.cli import main

if __name__ == "__main__":
    sys.exit(main())
