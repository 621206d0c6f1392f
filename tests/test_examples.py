"""Run every script in ``examples/`` as a user would (subprocess, Agg backend).

Each example must exit with status 0 and write its PNG into the working
directory (a temporary directory here).
"""

import os
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")

EXAMPLES_DIR = pathlib.Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))


def test_examples_are_found():
    names = {p.name for p in EXAMPLES}
    assert {"plot_grid_search_pipeline.py", "plot_quantile_intervals.py",
            "plot_quantile_classifier_confidence.py", "plot_loss_curve.py",
            "plot_symnet_digits.py", "plot_sbaf_kernel.py"} <= names


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    pngs = list(tmp_path.glob("*.png"))
    assert pngs, f"{script.name} wrote no PNG"
    assert all(p.stat().st_size > 1000 for p in pngs)
