"""``python -m sklipschitz`` and the ``sklipschitz`` console script.

Commands: ``compare`` (defaults against learning-rate-tuned scikit-learn
baselines), ``fit`` and ``predict`` (CSV in, joblib model, CSV out).  Run
``sklipschitz --help`` or ``sklipschitz COMMAND --help``; see ``docs/cli.md``.
"""

import sys


def main(argv=None):
    """Entry point; returns the exit code (0 ok, 1 runtime error, 2 usage error)."""
    from ._cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
