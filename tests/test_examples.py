"""Run every script in ``examples/`` as a user would (subprocess, Agg backend).

The scripts are the documentation gallery (sphinx-gallery format).  Each one
must run headless with the working tree's package, exit with status 0 and
leave at least one non-empty matplotlib figure open for the gallery to
capture.
"""

import ast
import os
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))

# Runs the script as __main__, then reports the figures it left open.
RUNNER = """
import runpy, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
runpy.run_path(sys.argv[1], run_name="__main__")
sizes = [len(plt.figure(n).get_axes()) for n in plt.get_fignums()]
print("FIGURES", len(sizes), min(sizes, default=0))
"""


def test_examples_are_found():
    names = {p.name for p in EXAMPLES}
    assert {"plot_grid_search_pipeline.py", "plot_quantile_intervals.py",
            "plot_quantile_classifier_confidence.py", "plot_loss_curve.py",
            "plot_symnet_digits.py", "plot_sbaf_kernel.py",
            "plot_learning_rate_decay.py"} <= names
    assert (EXAMPLES_DIR / "GALLERY_HEADER.rst").is_file()


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_is_a_gallery_script(script):
    source = script.read_text()
    doc = ast.get_docstring(ast.parse(source), clean=False)
    assert doc is not None, f"{script.name} has no title docstring"
    lines = [line for line in doc.strip().splitlines()]
    # an rst title: a line underlined (and overlined) by '=' of at least its length
    assert len(lines) >= 3 and set(lines[0]) == {"="} and set(lines[2]) == {"="}, lines[:3]
    assert len(lines[0]) >= len(lines[1].strip()), f"{script.name}: title rule too short"
    assert source.count("\n# %%") >= 2, f"{script.name} has fewer than two cells"
    for forbidden in ("argparse", "savefig", "def main(", 'matplotlib.use("Agg")'):
        assert forbidden not in source, f"{script.name} still uses {forbidden}"


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           # the working tree's package, not a copy installed elsewhere
           "PYTHONPATH": os.pathsep.join(
               [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                              if p])}
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(script)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = [line for line in proc.stdout.splitlines() if line.startswith("FIGURES")]
    assert summary, proc.stdout[-2000:]
    n_figures, min_axes = map(int, summary[-1].split()[1:])
    assert n_figures >= 1, f"{script.name} drew no figure"
    assert min_axes >= 1, f"{script.name} left an empty figure"
    assert not list(tmp_path.iterdir()), f"{script.name} wrote files into its working directory"
