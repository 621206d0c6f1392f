"""Reporting ``sklipschitz compare``: text and Markdown tables, CSV, plot."""

from __future__ import annotations

import csv
import io
import math
import os
import sys
from typing import IO

import numpy as np

from .._io import atomic_write
from ._run import Record, Settings

# ----------------------------------------------------------------------------
# Output: table (stdout / Markdown), CSV, plot
# ----------------------------------------------------------------------------

CSV_COLUMNS = [
    "task", "dataset", "n_samples", "n_features", "metric", "folds", "ours", "baseline", "tuned",
    "baseline_best", "ours_score", "ours_score_std", "baseline_score", "baseline_score_std",
    "score_diff", "tolerance", "score_close", "ours_time", "baseline_time", "speedup",
    "ours_cpu", "baseline_cpu",
    "cpu_speedup", "ours_fits", "baseline_fits", "baseline_failed_fits", "ours_epochs",
]

TABLE_HEADER = ["task", "n x p", "metric", "ours", "score", "tuned baseline", "score", "diff",
                "time (s)", "tuned time (s)", "fits", "speed-up"]


def _fmt_time(t):
    return f"{t:.3f}" if t < 1 else f"{t:.2f}" if t < 100 else f"{t:.0f}"


def _short(label):
    return label.replace("MultiOutputRegressor(", "MultiOutput(")


METRIC_LABELS = {"neg_mean_absolute_error": "-MAE"}


def table_rows(records: list[Record]) -> list[list[str]]:
    rows = []
    for r in records:
        base = _short(r["baseline"])
        if r["baseline_best"] != "defaults":
            base += f" [{r['baseline_best']}]"
        rows.append([
            r["task"], f"{r['n_samples']} x {r['n_features']}",
            METRIC_LABELS.get(r["metric"], r["metric"]), r["ours"],
            f"{r['ours_score']:.3f}", base, f"{r['baseline_score']:.3f}",
            f"{r['score_diff']:+.3f}", _fmt_time(r["ours_time"]), _fmt_time(r["baseline_time"]),
            f"{r['ours_fits']} / {r['baseline_fits']}", f"{r['speedup']:.1f}x",
        ])
    return rows


def format_text_table(records: list[Record]) -> str:
    return _text_table(TABLE_HEADER, table_rows(records), {4, 6, 7, 8, 9, 10, 11})


RESOURCE_HEADER = ["task", "epochs (ours / tuned)", "CPU s per fit (ours / tuned)",
                   "peak MB per fit (ours / tuned)", "CO2 mg, workflow (ours / tuned)"]


def _pair(r, key, fmt):
    vals = [r.get(f"ours_{key}"), r.get(f"baseline_{key}")]
    return " / ".join("n/a" if v is None or v == "" else format(v, fmt) for v in vals)


def resource_rows(records: list[Record]) -> list[list[str]]:
    return [[r["task"], _pair(r, "fit_epochs", "d"), _pair(r, "fit_cpu_s", ".3g"),
             _pair(r, "fit_peak_mb", ".3g"), _pair(r, "workflow_co2_mg", ".3g")]
            for r in records if "ours_fit_cpu_s" in r]


def _text_table(header, rows, right):
    rows = [header] + rows
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for j, row in enumerate(rows):
        cells = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_resource_table(records: list[Record]) -> str:
    rows = resource_rows(records)
    return _text_table(RESOURCE_HEADER, rows, {1, 2, 3, 4}) if rows else ""


def _markdown_table(header, rows, right):
    head = "| " + " | ".join(header) + " |"
    align = "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"
    body = ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join([head, align, *body]) + "\n"


def format_markdown(records: list[Record], settings: Settings | None = None) -> str:
    return _markdown_table(TABLE_HEADER, table_rows(records), {4, 6, 7, 8, 9, 10, 11})


def summary_lines(records: list[Record]) -> list[str]:
    """The targets: score within 0.01 and the speed-ups against each baseline family."""
    lines: list[str] = []
    if not records:
        return lines
    close = [r.get("score_close", r["score_diff"] >= -0.01) for r in records]
    behind = [r["task"] for r, ok in zip(records, close) if not ok]
    lines.append(f"score as good as the tuned baseline (within 0.01, or 1% for errors in data "
                 f"units) or better: {sum(close)}/{len(records)} tasks"
                 + (f"; behind: {', '.join(behind)}" if behind else ""))
    families: dict[str, list[Record]] = {}
    for r in records:
        fam = r["baseline"].replace("MultiOutputRegressor(", "").rstrip(")")
        families.setdefault(fam, []).append(r)
    for fam, recs in families.items():
        ratios = [r["speedup"] for r in recs]
        geo = math.exp(np.mean(np.log(ratios)))
        n = len(ratios)
        line = (f"speed-up vs {fam}: geometric mean {geo:.1f}x (min {min(ratios):.1f}x, "
                f"max {max(ratios):.1f}x, {n} task{'s' * (n > 1)})")
        cpu = [r["cpu_speedup"] for r in recs if r.get("cpu_speedup")]
        if len(cpu) == n:
            line += f"; CPU time: {math.exp(np.mean(np.log(cpu))):.1f}x"
        lines.append(line)
    return lines


def _write_csv_rows(records: list[Record], stream: IO[str]) -> None:
    extra = [k for r in records for k in r if k not in CSV_COLUMNS]
    columns = CSV_COLUMNS + list(dict.fromkeys(extra))
    writer = csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for r in records:
        writer.writerow({k: r.get(k, "") for k in columns})


def write_csv(records: list[Record], path: str) -> None:
    """One row per record, the known columns first (written atomically)."""
    atomic_write(path, lambda f: _write_csv_rows(records, f))


def plot_results(records: list[Record], path: str) -> None:
    """Score against total time (log scale), one panel per task; saves a PNG
    (written atomically)."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    n = len(records)
    ncols = min(4, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.9 * nrows), squeeze=False)
    for ax, r in zip(axes.flat, records):
        ax.plot([r["ours_time"], r["baseline_time"]], [r["ours_score"], r["baseline_score"]],
                color="0.8", zorder=1)
        ax.scatter([r["ours_time"]], [r["ours_score"]], color="tab:blue", marker="o",
                   s=45, zorder=2, label="sklipschitz (defaults)")
        ax.scatter([r["baseline_time"]], [r["baseline_score"]], color="tab:orange", marker="s",
                   s=45, zorder=2, label="tuned baseline")
        ax.set_xscale("log")
        ax.set_title(f"{r['task']}\n{_short(r['baseline'])}, {r['speedup']:.1f}x",
                     fontsize=8)
        ax.set_xlabel("total time (s)", fontsize=8)
        ax.set_ylabel(METRIC_LABELS.get(r["metric"], r["metric"]), fontsize=8)
        ax.tick_params(labelsize=7)
        lo, hi = sorted([r["ours_time"], r["baseline_time"]])
        lo, hi = lo / 2.5, hi * 2.5
        if hi / lo < 10:  # at least one decade, so a major tick is labelled
            mid = math.sqrt(lo * hi)
            lo, hi = mid / math.sqrt(10), mid * math.sqrt(10)
        ax.set_xlim(lo, hi)
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ys = [r["ours_score"], r["baseline_score"]]
        pad = max(0.02, 0.25 * (max(ys) - min(ys)))
        ax.set_ylim(min(ys) - pad, max(ys) + pad)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle("Cross-validated score vs total time (incl. tuning), higher-left is better",
                 fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    try:
        atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110), binary=True)
    finally:
        plt.close(fig)


def write_outputs(records: list[Record], out_dir: str,
                  settings: Settings | None = None) -> dict[str, str | None]:
    """CSV, Markdown and PNG into ``out_dir``; returns the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    paths: dict[str, str | None] = {}
    paths["csv"] = csv_path = os.path.join(out_dir, "compare.csv")
    write_csv(records, csv_path)
    paths["markdown"] = md_path = os.path.join(out_dir, "compare.md")
    report = markdown_report(records, settings)
    atomic_write(md_path, lambda f: f.write(report))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        paths["png"] = None
    else:
        paths["png"] = png_path = os.path.join(out_dir, "compare.png")
        plot_results(records, png_path)
    return paths


def markdown_report(records: list[Record], settings: Settings | None = None) -> str:
    settings = settings or Settings()
    buf = io.StringIO()
    buf.write(f"Command: `{settings.command}`; {settings.folds}-fold CV, seed "
              f"{settings.seed}, single-threaded. Scores are mean CV scores (baseline: "
              "best grid point). Time is CV + tuning + final refit.\n\n")
    buf.write(format_markdown(records, settings))
    lines = summary_lines(records)
    if lines:
        buf.write("\n" + "\n".join(f"- {line}" for line in lines) + "\n")
    res = resource_rows(records)
    if res:
        buf.write("\nResources (`--resources`, `sklipschitz.metrics`): one fit on all the data "
                  "of our default model and of the tuned baseline at its chosen learning rate "
                  "(epochs, CPU time, peak traced memory); CO2 of the CPU time of the whole "
                  "timed workflow (CPU-time estimate).\n\n")
        buf.write(_markdown_table(RESOURCE_HEADER, res, {1, 2, 3, 4}))
    return buf.getvalue()
