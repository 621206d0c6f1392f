"""The ``sklipschitz compare`` command."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from types import ModuleType

from .._common import EXIT_ERROR, EXIT_OK, PROG, CLIError, UsageError, one_line, print_json
from ..fit import split_names


def _list_tasks(cmp: ModuleType, as_json: bool = False) -> int:
    if as_json:
        print_json({"command": "compare", "tasks": [
            {"name": t.name, "dataset": t.dataset, "ours": t.ours.label,
             "baseline": t.baseline.label, "grid": t.grid, "metric": t.metric,
             "quick": t.quick} for t in cmp.select_tasks()]})
        return EXIT_OK
    for t in cmp.select_tasks():
        flag = " (quick)" if t.quick else ""
        tuned = "GridSearchCV over " + ", ".join(t.grid) if t.grid else "no learning rate"
        print(f"{t.name:<28} {t.ours.label} vs {t.baseline.label} ({tuned}), {t.metric}{flag}")
    return EXIT_OK


def _prepare_out_dir(path: str) -> None:
    """Create ``--out DIR`` before any task runs; CLIError if it cannot be."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise CLIError(f"{path}: exists and is not a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"{path}: cannot create the directory ({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise CLIError(f"{path}: directory is not writable")


def cmd_compare(args: argparse.Namespace) -> int:
    from sklipschitz.cli import compare as cmp

    if args.list:
        return _list_tasks(cmp, args.json)
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
    show_progress = not (args.no_progress or args.quiet)
    progress = cmp.Progress(sys.stderr) if show_progress else None
    failures: list[tuple[str, BaseException]] = []
    with contextlib.redirect_stdout(sys.stderr):  # anything a fit prints is not data
        records = cmp.run_suite(tasks, settings, progress, failures=failures)
    for name, err in failures:
        print(f"{PROG} compare: error: task {name} failed: {type(err).__name__}: "
              f"{one_line(err)}", file=sys.stderr)
    paths = cmp.write_outputs(records, args.out, settings) if args.out and records else {}
    if args.json:
        print_json({
            "command": "compare",
            "settings": {"quick": settings.quick, "seed": settings.seed,
                         "folds": settings.folds, "resources": settings.resources},
            "tasks": records, "summary": cmp.summary_lines(records),
            "failures": [{"task": name, "error": f"{type(err).__name__}: {one_line(err)}"}
                         for name, err in failures],
            "outputs": paths, "warnings": list(getattr(args, "warnings", [])),
        })
    elif records:
        print(cmp.format_text_table(records))
        print()
        if args.resources:
            print(cmp.format_resource_table(records))
            print()
        for line in cmp.summary_lines(records):
            print(line)
    if paths and args.quiet == 0:
        written = [p for p in paths.values() if p]
        print("wrote " + ", ".join(written), file=sys.stderr)
        if paths.get("png") is None:
            print(f"{PROG}: note: matplotlib is not installed, no plot written "
                  "(pip install 'sklipschitz[plot]')", file=sys.stderr)
    return EXIT_ERROR if failures or not records else EXIT_OK
