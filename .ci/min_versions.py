"""The declared minimum versions of the runtime dependencies (pyproject.toml).

``python .ci/min_versions.py`` prints pip constraints pinning each runtime
dependency to its lower bound (``numpy>=1.23.5`` -> ``numpy==1.23.5``);
``python .ci/min_versions.py --check`` fails unless exactly those versions
are installed.  CI installs the package with these constraints and runs the
tests, so the minimums pyproject.toml declares are the ones tested.
"""

import re
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def minimums():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    out = {}
    for dep in deps:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*", dep)
        if m is None:
            sys.exit(f"runtime dependency without a plain lower bound: {dep!r}")
        out[m.group(1)] = m.group(2)
    return out


def main(argv):
    pins = minimums()
    if argv[1:] == ["--check"]:
        wrong = {name: (low, version(name)) for name, low in pins.items() if version(name) != low}
        for name, (low, got) in wrong.items():
            print(f"{name}: declared minimum {low}, installed {got}", file=sys.stderr)
        if wrong:
            return 1
        print("minimum versions installed: "
              + ", ".join(f"{name} {low}" for name, low in pins.items()))
        return 0
    for name, low in pins.items():
        print(f"{name}=={low}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
