"""The ``sklipschitz compare`` command."""

from __future__ import annotations

import os
import sys

from .._common import EXIT_ERROR, EXIT_OK, PROG, CLIError, UsageError, one_line
from ..fit import split_names


def _list_tasks(cmp):
    for t in cmp.select_tasks():
        flag = " (quick)" if t.quick else ""
        tuned = "GridSearchCV over " + ", ".join(t.grid) if t.grid else "no learning rate"
        print(f"{t.name:<28} {t.ours.label} vs {t.baseline.label} ({tuned}), {t.metric}{flag}")
    return EXIT_OK


def _prepare_out_dir(path):
    """Create ``--out DIR`` before any task runs; CLIError if it cannot be."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise CLIError(f"{path}: exists and is not a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"{path}: cannot create the directory ({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise CLIError(f"{path}: directory is not writable")


def cmd_compare(args):
    from sklipschitz.cli import compare as cmp

    if args.list:
        return _list_tasks(cmp)
    patterns = split_names(args.tasks)
    try:
        tasks = cmp.select_tasks(patterns, quick=args.quick)
    except KeyError as exc:
        names = ", ".join(t.name for t in cmp.select_tasks())
        raise UsageError(f"--tasks: no task matches '{exc.args[0]}' (tasks: {names})") from None
    settings = cmp.Settings(quick=args.quick, seed=args.seed, n_splits=args.folds,
                            resources=args.resources,
                            command=" ".join([PROG, *(args.argv or ["compare"])]))
    if args.out:
        _prepare_out_dir(args.out)
    progress = None if args.no_progress else cmp.Progress(sys.stderr)
    failures = []
    records = cmp.run_suite(tasks, settings, progress, failures=failures)
    for name, exc in failures:
        print(f"{PROG} compare: error: task {name} failed: {type(exc).__name__}: "
              f"{one_line(exc)}", file=sys.stderr)
    if not records:
        return EXIT_ERROR
    print(cmp.format_text_table(records))
    print()
    if args.resources:
        print(cmp.format_resource_table(records))
        print()
    for line in cmp.summary_lines(records):
        print(line)
    if args.out:
        paths = cmp.write_outputs(records, args.out, settings)
        written = [p for p in paths.values() if p]
        print("wrote " + ", ".join(written))
        if paths.get("png") is None:
            print(f"{PROG}: note: matplotlib is not installed, no plot written "
                  "(pip install 'sklipschitz[plot]')", file=sys.stderr)
    return EXIT_ERROR if failures else EXIT_OK
