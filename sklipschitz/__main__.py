"""``python -m sklipschitz``: the command line (:func:`sklipschitz.cli.main`)."""
import sys
from sklipschitz.cli import main
if __name__ == "__main__":
    sys.exit(main())
