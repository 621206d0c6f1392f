"""Quantile regression on a file larger than one wants in RAM, chunk by chunk.

Writes a ``--rows`` x ``--features`` float32 design and its target (one
float32 row of ``features + 1`` values per sample, ~800 MB for 1e7 x 20)
under ``--dir`` (``/tmp`` by default, never the repository), then:

1. one pass of ``StandardScaler.partial_fit`` over the chunks;
2. ``--passes`` passes of ``LipschitzRegressor(loss='quantile',
   batch_size=1000).partial_fit`` over the standardised chunks (subgradient
   steps on mini-batches at ``1/(L sqrt(t))``, ``t`` the number of
   ``partial_fit`` calls, ``L`` the running maximum of the per-chunk bounds
   valid for any mini-batch; ``--batch-size 0``: one step per chunk);
3. after every pass, the pinball objective over the whole file (streamed);
4. a reference: the exact in-memory fit on the first ``--ref-rows`` rows
   (run after the memory measurements), evaluated on the whole file.

Each chunk is its own ``numpy.memmap`` (``offset=``), dropped after use, so
the pages of the file do not accumulate in the process: the resident set is
bounded by a few chunks, not by the file.  Reported: peak RSS
(``ru_maxrss``) above the RSS before the first chunk, in MB and in chunks.

The disk space is checked first: if the file would not fit in 80 % of the
free space, the row count is scaled down (or use ``--rows``).  The file is
deleted at the end unless ``--keep``.

Usage::

    python benchmarks/bench_out_of_core.py [--rows 1e7] [--features 20]
        [--chunk 5e4] [--passes 4] [--batch-size 1000] [--ref-rows 1e6] [--quantile 0.9] [--dir /tmp] [--keep] [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time

import numpy as np
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressor

MB = 1024.0**2


def rss_mb():
    """Current resident set size (MB), from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / MB


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def write_file(path, rows, d, chunk, seed=11):
    """The DESIGN.md data (mixed scales, heteroscedastic t(2) noise), chunk by chunk."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.5, 3, d)
    shift = rng.uniform(-1, 1, d)
    beta = rng.standard_normal(d)
    with open(path, "wb") as f:
        for start in range(0, rows, chunk):
            m = min(chunk, rows - start)
            X = rng.standard_normal((m, d)) * scale + shift
            y = X @ beta + 2 + rng.standard_t(2, m) * (1 + 0.5 * np.abs(X[:, 0]))
            block = np.empty((m, d + 1), dtype=np.float32)
            block[:, :d] = X
            block[:, d] = y
            block.tofile(f)


def chunks(path, rows, d, chunk):
    """``(X, y)`` views of one ``numpy.memmap`` per chunk."""
    row_bytes = (d + 1) * 4
    for start in range(0, rows, chunk):
        m = min(chunk, rows - start)
        mm = np.memmap(path, dtype=np.float32, mode="r", offset=start * row_bytes,
                       shape=(m, d + 1))
        yield mm[:, :d], mm[:, d]
        del mm


def pinball_objective(est, scaler, path, rows, d, chunk, tau):
    total = 0.0
    for X, y in chunks(path, rows, d, chunk):
        r = y - est.predict(scaler.transform(X))
        total += float(np.sum(np.maximum(tau * r, (tau - 1) * r), dtype=np.float64))
    return total / rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e7)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--chunk", type=float, default=5e4, help="rows per chunk")
    parser.add_argument("--passes", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=1000,
                        help="mini-batches inside each chunk (0: one step per chunk)")
    parser.add_argument("--quantile", type=float, default=0.9)
    parser.add_argument("--ref-rows", type=float, default=1e6,
                        help="rows of the in-memory reference fit")
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--keep", action="store_true", help="keep the data file")
    parser.add_argument("--quick", action="store_true", help="1e6 rows, 2 passes")
    args = parser.parse_args(argv)
    rows, d, chunk = int(args.rows), args.features, int(args.chunk)
    if args.quick:
        rows, args.passes = min(rows, 1_000_000), min(args.passes, 2)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.abspath(args.dir).startswith(repo):
        raise SystemExit("write the data outside the repository (--dir)")
    row_bytes = (d + 1) * 4
    free = shutil.disk_usage(args.dir).free
    if rows * row_bytes > 0.8 * free:
        rows = int(0.8 * free / row_bytes) // chunk * chunk
        print(f"not enough free disk space: scaled down to {rows:.3g} rows")
    path = os.path.join(args.dir, f"sklipschitz_ooc_{rows}x{d}.f32")
    print(f"file {path}: {rows:.3g} x {d} float32 (+ target), "
          f"{rows * row_bytes / MB:.0f} MB; free disk {free / MB / 1024:.1f} GB")
    chunk_mb = chunk * row_bytes / MB
    print(f"chunk: {chunk:.3g} rows = {chunk_mb:.1f} MB")

    try:
        t0 = time.perf_counter()
        if not os.path.exists(path) or os.path.getsize(path) != rows * row_bytes:
            write_file(path, rows, d, chunk)
        print(f"write: {time.perf_counter() - t0:.1f} s, peak RSS so far {peak_rss_mb():.0f} MB")

        base = rss_mb()
        # the peak so far (imports, writing) is the reference for the fit's growth
        peak_before = peak_rss_mb()
        t0 = time.perf_counter()
        scaler = StandardScaler()
        for X, _ in chunks(path, rows, d, chunk):
            scaler.partial_fit(X)
        print(f"scaler pass: {time.perf_counter() - t0:.1f} s")

        est = LipschitzRegressor(loss="quantile", quantile=args.quantile,
                                 batch_size=args.batch_size or None, random_state=0)
        print(f"{'pass':>4} {'fit s':>7} {'cpu s':>7} {'objective':>12} {'L':>8} "
              f"{'RSS MB':>7} {'peak MB':>8}")
        max_rss = base
        for p in range(1, args.passes + 1):
            t0, c0 = time.perf_counter(), time.process_time()
            for X, y in chunks(path, rows, d, chunk):
                est.partial_fit(scaler.transform(X), y)
                max_rss = max(max_rss, rss_mb())
            fit_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
            obj = pinball_objective(est, scaler, path, rows, d, chunk, args.quantile)
            print(f"{p:4d} {fit_s:7.1f} {cpu_s:7.1f} {obj:12.6f} "
                  f"{est.lipschitz_constant_:8.3f} {rss_mb():7.0f} {peak_rss_mb():8.0f}",
                  flush=True)
        peak = peak_rss_mb()
        grown = max(max_rss - base, peak - max(peak_before, base))
        print(f"RSS before the fit {base:.0f} MB; largest RSS seen during the fit "
              f"{max_rss:.0f} MB; process peak (ru_maxrss) {peak:.0f} MB")
        print(f"growth during the fit: {grown:.0f} MB = {grown / chunk_mb:.1f} chunks "
              f"(file: {rows * row_bytes / MB:.0f} MB = {rows / chunk:.0f} chunks)")
        # reference: the exact in-memory fit on the first --ref-rows rows
        # (after the measurements above), evaluated on the whole file
        m = min(rows, int(args.ref_rows))
        mm = np.memmap(path, dtype=np.float32, mode="r", shape=(m, d + 1))
        t0 = time.perf_counter()
        ref = LipschitzRegressor(loss="quantile", quantile=args.quantile).fit(
            scaler.transform(mm[:, :d]), np.array(mm[:, d]))
        del mm
        ref_obj = pinball_objective(ref, scaler, path, rows, d, chunk, args.quantile)
        print(f"reference: exact in-memory fit on the first {m:.3g} rows "
              f"({time.perf_counter() - t0:.1f} s): objective {ref_obj:.6f} on the whole file; "
              f"streamed partial_fit is {obj / ref_obj - 1:+.2e} relative to it")
    finally:
        if not args.keep and os.path.exists(path):
            os.remove(path)


if __name__ == "__main__":
    main()
