"""The exact solver out of core: a memory map and a dask cluster against in memory.

Part ``memmap`` (quantile loss, ``--quantile``):

1. writes a ``--rows`` x ``--features`` float32 design (the DESIGN.md data:
   mixed scales, heteroscedastic t(2) noise) to a file under ``--dir``
   (``/tmp``; never the repository), block by block, and keeps the float32
   target in memory;
2. ``LipschitzRegressor(loss='quantile').fit(X_memmap, y)`` under
   ``tracemalloc`` (which leaves out the page cache behind the map): time,
   peak traced memory against the size of X, passes over X, certificate;
3. the same fit on X loaded into memory (``np.array``), alternated with 2.
   ``--repeats`` times (medians; the machine may be shared): the objective
   of both and its relative difference, the time ratio;
4. ``partial_fit`` (mini-batches of ``--pf-batch`` rows in chunks of
   ``--pf-chunk`` rows, subgradient steps at ``1/(L sqrt(t))``, ``t`` the
   number of calls, as ``bench_out_of_core.py``) on the first ``--subset``
   rows, standardised: passes
   until the objective is within 1e-4, 1e-5, 1e-6 (relative) of the exact
   fit of that subset (at most ``--pf-passes``).

Part ``memory`` (no ``partial_fit``, no in-memory baseline): for every loss
(quantile at ``--quantile``, absolute, log-cosh, squared, Huber), without and
with sample weights (uniform on [0.5, 2]), the fit on a ``--mem-rows`` x
``--features`` float32 memory map under ``tracemalloc``: the traced peak
divided by the size of X (the target < 1), passes, certificate, time.  With
``--mem-check`` the same fit in memory too: the relative difference of the
objectives (``loss_``).

Part ``dask`` (``distributed.LocalCluster``, ``--workers`` workers of one
thread): a ``--dask-rows`` x ``--features`` float64 design in blocks of
``--dask-block`` rows, generated on the workers and persisted there; the
exact quantile fit on the dask arrays against the same fit in memory on
this machine (alternated, medians), and for the squared error against
dask-ml's ``LinearRegression`` (time, objective ``mean (y - Xw - b)^2 / 2``
evaluated in memory; dask-ml's default ``C=1`` penalty and a nearly
unpenalised ``C=1e8``).

Usage::

    python benchmarks/bench_blocked.py [--part memmap|dask|both] [--rows 2e7]
        [--features 20] [--quantile 0.9] [--repeats 3] [--subset 1e6]
        [--dask-rows 4e6] [--dask-block 1e6] [--workers 2] [--dir /tmp] [--quick]
    python benchmarks/bench_blocked.py --part memory [--mem-rows 2e6] [--mem-check]

``--quick``: 1e6 rows (memmap), 2e5 rows (memory), 4e5 rows in blocks of 1e5 (dask), one repeat.
"""

from __future__ import annotations

import argparse
import operator
import os
import shutil
import statistics
import tempfile
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.preprocessing import StandardScaler

from sklipschitz import LipschitzRegressor

MB = 1024.0**2


def write_design(path, rows, d, block=1_000_000, seed=11):
    """X (float32, on disk) and y (float32, returned), block by block."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.5, 3, d)
    shift = rng.uniform(-1, 1, d)
    beta = rng.standard_normal(d)
    X = np.memmap(path, dtype=np.float32, mode="w+", shape=(rows, d))
    y = np.empty(rows, dtype=np.float32)
    for i in range(0, rows, block):
        m = min(block, rows - i)
        xb = rng.standard_normal((m, d)) * scale + shift
        X[i:i + m] = xb
        y[i:i + m] = xb @ beta + 2 + rng.standard_t(2, m) * (1 + 0.5 * np.abs(xb[:, 0]))
    X.flush()
    del X
    return y


def timed_fit(est, X, y, trace=False):
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    est.fit(X, y)
    elapsed = time.perf_counter() - t0
    peak = None
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return elapsed, peak


def pinball(y, pred, tau):
    r = np.asarray(y, dtype=np.float64) - pred
    return float(np.mean(np.maximum(tau * r, (tau - 1) * r)))


def streamed_pinball(Xm, y, est, tau, block=1_000_000):
    """The mean pinball loss of ``est`` on the memory map, in float64."""
    coef = np.asarray(est.coef_, dtype=np.float64)
    total = 0.0
    for i in range(0, Xm.shape[0], block):
        r = y[i:i + block].astype(np.float64) - (Xm[i:i + block] @ coef + est.intercept_)
        total += float(np.sum(np.maximum(tau * r, (tau - 1) * r)))
    return total / Xm.shape[0]


def part_memmap(args):
    rows, d, tau = int(args.rows), args.features, args.quantile
    if os.path.abspath(args.dir).startswith(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))):
        raise SystemExit("write the data outside the repository (--dir)")
    free = shutil.disk_usage(args.dir).free
    if rows * d * 4 > 0.8 * free:
        rows = int(0.8 * free / (d * 4)) // 1_000_000 * 1_000_000
        print(f"not enough free disk space: scaled down to {rows:.3g} rows")
    path = os.path.join(args.dir, f"sklipschitz_blocked_{rows}x{d}.f32")
    size = rows * d * 4
    print(f"## memory map: {rows:.3g} x {d} float32 = {size / MB:.0f} MB at {path}, "
          f"quantile {tau}")
    try:
        t0 = time.perf_counter()
        y = write_design(path, rows, d)
        print(f"written in {time.perf_counter() - t0:.1f} s")
        Xm = np.memmap(path, dtype=np.float32, mode="r", shape=(rows, d))
        params = dict(loss="quantile", quantile=tau)
        t_mm, t_mem, peaks = [], [], []
        est_mm = est_mem = None
        for rep in range(args.repeats):
            est_mm = LipschitzRegressor(**params)
            el, peak = timed_fit(est_mm, Xm, y, trace=True)
            t_mm.append(el)
            peaks.append(peak)
            Xa = np.array(Xm)                  # the in-memory baseline
            est_mem = LipschitzRegressor(**params)
            t_mem.append(timed_fit(est_mem, Xa, y)[0])
            del Xa
            print(f"  repeat {rep}: memmap {t_mm[-1]:.1f} s (traced peak "
                  f"{peak / MB:.0f} MB), in memory {t_mem[-1]:.1f} s")
        # the objectives in float64 (loss_ is in X's dtype, float32 here)
        f_mm = streamed_pinball(Xm, y, est_mm, tau)
        f_mem = streamed_pinball(Xm, y, est_mem, tau)
        rel = (f_mm - f_mem) / f_mem
        dcoef = float(np.max(np.abs(est_mm.coef_ - est_mem.coef_)))
        print()
        print("| route | time (s, median) | objective | passes | certified | traced peak |")
        print("|---|---|---|---|---|---|")
        print(f"| in memory | {statistics.median(t_mem):.1f} | {f_mem:.12g} | "
              f"{est_mem.n_passes_} | {est_mem.certified_} | - |")
        print(f"| memory map | {statistics.median(t_mm):.1f} | {f_mm:.12g} | "
              f"{est_mm.n_passes_} | {est_mm.certified_} | {max(peaks) / MB:.0f} MB = "
              f"{max(peaks) / size:.2f} x X |")
        print(f"\nobjective (float64), memmap vs in memory: {rel:+.2e} relative (largest "
              f"coefficient difference {dcoef:.1e}); time ratio "
              f"memmap / in memory {statistics.median(t_mm) / statistics.median(t_mem):.2f}")
        if args.pf_passes > 0:
            part_partial_fit(Xm, y, args)
    finally:
        if os.path.exists(path):
            os.remove(path)


def part_partial_fit(Xm, y, args):
    """Passes of ``partial_fit`` (one step per chunk) to reach the exact fit."""
    m = min(int(args.subset), Xm.shape[0])
    chunk, tau = int(args.pf_chunk), args.quantile
    X, ys = np.array(Xm[:m]), y[:m]
    # standardised first, as a partial_fit user would (StandardScaler.partial_fit
    # over the chunks): first-order steps need it; the exact optimum of the
    # unpenalised fit is the same model either way
    X = StandardScaler().fit_transform(X)
    exact = LipschitzRegressor(loss="quantile", quantile=tau).fit(X, ys)
    f_star = pinball(ys, exact.predict(X), tau)
    est = LipschitzRegressor(loss="quantile", quantile=tau, batch_size=args.pf_batch or None)
    targets = [1e-4, 1e-5, 1e-6]
    reached = {}
    t0 = time.perf_counter()
    for p in range(1, int(args.pf_passes) + 1):
        for i in range(0, m, chunk):
            est.partial_fit(X[i:i + chunk], ys[i:i + chunk])
        gap = (pinball(ys, est.predict(X), tau) - f_star) / f_star
        for t in targets:
            if t not in reached and gap <= t:
                reached[t] = p
        if len(reached) == len(targets):
            break
    el = time.perf_counter() - t0
    exact_passes = exact.n_passes_
    print(f"\npartial_fit on the first {m:.3g} rows, chunks of {chunk:.3g} rows, "
          f"mini-batches of {args.pf_batch} "
          f"({el:.0f} s for {p} passes; the exact fit: {exact_passes} passes):")
    for t in targets:
        got = reached.get(t)
        print(f"  within {t:.0e} of the exact objective: "
              + (f"after {got} passes" if got else f"not after {p} passes (gap {gap:.2e})"))


MEM_LOSSES = ("quantile", "absolute_error", "log_cosh", "squared_error", "huber")


def part_memory(args):
    """Traced peak / size of X of the memory-mapped fit, per loss and weighting."""
    rows, d, tau = int(args.mem_rows), args.features, args.quantile
    path = os.path.join(args.dir, f"sklipschitz_blocked_mem_{rows}x{d}.f32")
    size = rows * d * 4
    print(f"\n## peak memory: {rows:.3g} x {d} float32 memory map = {size / MB:.0f} MB")
    try:
        y = write_design(path, rows, d)
        Xm = np.memmap(path, dtype=np.float32, mode="r", shape=(rows, d))
        sw = np.random.default_rng(3).uniform(0.5, 2.0, rows)
        print("\n| loss | weights | traced peak / X | passes | certified | time (s) |"
              + (" objective vs in memory |" if args.mem_check else ""))
        print("|---|---|---|---|---|---|" + ("---|" if args.mem_check else ""))
        for loss in args.mem_losses.split(","):
            for weighted in (False, True):
                s = sw if weighted else None
                est = LipschitzRegressor(loss=loss, quantile=tau)
                tracemalloc.start()
                t0 = time.perf_counter()
                est.fit(Xm, y, sample_weight=s)
                el = time.perf_counter() - t0
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                line = (f"| {loss} | {'uniform [0.5, 2]' if weighted else 'none'} | "
                        f"{peak / size:.2f} | {est.n_passes_} | {est.certified_} | {el:.1f} |")
                if args.mem_check:
                    ref = LipschitzRegressor(loss=loss, quantile=tau).fit(
                        np.array(Xm), y, sample_weight=s)
                    line += f" {(est.loss_ - ref.loss_) / abs(ref.loss_):+.1e} |"
                print(line, flush=True)
    finally:
        if os.path.exists(path):
            os.remove(path)


def _cpu_seconds():
    """CPU seconds (user + system) of this process."""
    import psutil

    t = psutil.Process().cpu_times()
    return t.user + t.system


def make_block(k, m, d, scale, beta):
    """Block ``k`` of the dask design: ``(X_k, y_k)``."""
    rng = np.random.default_rng([7, k])
    xb = rng.standard_normal((m, d)) * scale
    yb = xb @ beta + 2 + rng.standard_t(2, m) * (1 + 0.5 * np.abs(xb[:, 0]))
    return xb, yb


class GatherMeter:
    """Counts the rows of X a fit gathers from the dask blocks to this
    process (the kept band of the exact finish, the zero residuals of the
    certificate): calls, MB and wall seconds of ``DaskBlocks._take_sorted``."""

    def __enter__(self):
        from sklipschitz._exact.blocked import DaskBlocks

        self.calls, self.nbytes, self.seconds = 0, 0, 0.0
        self._orig = orig = DaskBlocks._take_sorted
        meter = self

        def take(src, idx):
            t0 = time.perf_counter()
            out = orig(src, idx)
            meter.seconds += time.perf_counter() - t0
            meter.calls += 1
            meter.nbytes += out.nbytes
            return out

        DaskBlocks._take_sorted = take
        return self

    def __exit__(self, *exc):
        from sklipschitz._exact.blocked import DaskBlocks

        DaskBlocks._take_sorted = self._orig


def part_dask(args):
    import dask
    import dask.array as da
    import distributed

    rows, block, d = int(args.dask_rows), int(args.dask_block), args.features
    print(f"\n## dask: LocalCluster({args.workers} workers x 1 thread), {rows:.3g} x {d} "
          f"float64 in blocks of {block:.3g} rows, persisted")
    cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        scale = np.random.default_rng(8).uniform(0.5, 3, d)
        beta = np.random.default_rng(9).standard_normal(d)
        # block k generated on worker k mod workers and persisted there (as
        # data loaded by the workers would be): the blocks are spread over
        # the workers, each pass runs on all of them
        workers = sorted(client.scheduler_info()["workers"])
        xs, ys = [], []
        for k, i in enumerate(range(0, rows, block)):
            m = min(block, rows - i)
            on = [workers[k % len(workers)]]
            fut = client.submit(make_block, k, m, d, scale, beta, workers=on, pure=False)
            xs.append(da.from_delayed(dask.delayed(client.submit(
                operator.itemgetter(0), fut, workers=on)), (m, d), np.float64))
            ys.append(da.from_delayed(dask.delayed(client.submit(
                operator.itemgetter(1), fut, workers=on)), (m,), np.float64))
            del fut
        X, y = dask.persist(da.concatenate(xs), da.concatenate(ys))
        distributed.wait([X, y])
        del xs, ys
        held = {w: len(k) for w, k in client.has_what().items()}
        print(f"load (uptime): {os.getloadavg()[0]:.1f}; keys per worker: "
              f"{sorted(held.values())}")
        Xa, ya = dask.compute(X, y)
        rows_out, gathered = [], []
        for loss in ("quantile", "squared_error"):
            params = dict(loss=loss, quantile=args.quantile)
            t_d, t_m, c_d, c_m, loads = [], [], [], [], []
            for _ in range(args.repeats):
                loads.append(os.getloadavg()[0])
                est_d = LipschitzRegressor(**params)
                c0 = time.process_time() + sum(client.run(_cpu_seconds).values())
                with GatherMeter() as meter:
                    t_d.append(timed_fit(est_d, X, y)[0])
                c_d.append(time.process_time() + sum(client.run(_cpu_seconds).values()) - c0)
                est_m = LipschitzRegressor(**params)
                c0 = time.process_time()
                t_m.append(timed_fit(est_m, Xa, ya)[0])
                c_m.append(time.process_time() - c0)
                loads.append(os.getloadavg()[0])
            rel = (est_d.loss_ - est_m.loss_) / est_m.loss_
            ratio = statistics.median([a / b for a, b in zip(t_d, t_m)])
            cpu = statistics.median([a / b for a, b in zip(c_d, c_m)])
            rows_out.append((loss, statistics.median(t_m), statistics.median(t_d), ratio, cpu,
                             est_m, est_d, rel, statistics.median(loads)))
            gathered.append((loss, meter.calls, meter.nbytes / MB, meter.seconds,
                             statistics.median(t_d), X.nbytes / MB))
        print("\n| loss | in memory (s) | dask (s) | ratio | CPU ratio | load | "
              "objective (in memory) | relative difference | passes | certified |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for loss, tm, td, ratio, cpu, em, ed, rel, load in rows_out:
            print(f"| {loss} | {tm:.1f} | {td:.1f} | {ratio:.2f} | {cpu:.2f} | {load:.1f} | "
                  f"{em.loss_:.12g} | {rel:+.1e} | {ed.n_passes_} | {ed.certified_} |")
        print("(ratio: median over the repeats of dask / in memory, each pair run back to "
              "back; CPU ratio: CPU seconds of this process and the workers against those "
              "of the in-memory fit; load: the 1-minute load average)")
        print("\nrows of X gathered to this process by the last dask fit (the kept band "
              "of the exact finish, the zero residuals of the certificate):")
        print("| loss | gathers | MB | share of X | seconds | share of the fit |")
        print("|---|---|---|---|---|---|")
        for loss, calls, mb, sec, fit, xmb in gathered:
            print(f"| {loss} | {calls} | {mb:.2f} | {mb / xmb:.2%} | {sec:.3f} | "
                  f"{sec / fit:.1%} |")
        try:
            from dask_ml.linear_model import LinearRegression
        except ImportError:
            print("dask-ml not installed: no comparison")
            return
        ours = [r for r in rows_out if r[0] == "squared_error"][0]
        ours = (ours[0], ours[1], ours[2], ours[5], ours[6])
        print("\nsquared error against dask-ml LinearRegression "
              "(objective mean (y - Xw - b)^2 / 2, in memory):")
        print("| estimator | time (s) | objective | relative to ours |")
        print("|---|---|---|---|")
        f_ours = ours[4].loss_
        print(f"| LipschitzRegressor (dask) | {ours[2]:.1f} | {f_ours:.12g} | 0 |")
        for solver, C in (("admm", 1.0), ("lbfgs", 1.0), ("lbfgs", 1e8)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lr = LinearRegression(solver=solver, C=C)
                t0 = time.perf_counter()
                lr.fit(X, y)
                el = time.perf_counter() - t0
            r = ya - (Xa @ np.asarray(lr.coef_) + float(lr.intercept_))
            f = 0.5 * float(np.mean(r * r))
            print(f"| dask-ml LinearRegression(solver={solver!r}, C={C:g}) | {el:.1f} | "
                  f"{f:.12g} | {(f - f_ours) / f_ours:+.1e} |")
    finally:
        client.close()
        cluster.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["memmap", "memory", "dask", "both"], default="both",
                        help="both: memmap and dask; memory: the peak-memory table only")
    parser.add_argument("--rows", type=float, default=2e7)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--quantile", type=float, default=0.9)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--subset", type=float, default=1e6)
    parser.add_argument("--pf-chunk", type=float, default=1e5)
    parser.add_argument("--pf-passes", type=int, default=300,
                        help="at most this many partial_fit passes (0: no partial_fit part)")
    parser.add_argument("--pf-batch", type=int, default=1000,
                        help="mini-batches of partial_fit inside a chunk (0: one step per chunk)")
    parser.add_argument("--dask-rows", type=float, default=4e6)
    parser.add_argument("--dask-block", type=float, default=1e6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--mem-rows", type=float, default=2e6)
    parser.add_argument("--mem-losses", default=",".join(MEM_LOSSES))
    parser.add_argument("--mem-check", action="store_true",
                        help="memory part: the in-memory fit too (objective difference)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.subset, args.repeats = min(args.rows, 1e6), min(args.subset, 2e5), 1
        args.dask_rows, args.dask_block, args.pf_passes = 4e5, 1e5, min(args.pf_passes, 200)
        args.mem_rows = min(args.mem_rows, 2e5)
    if args.part in ("memmap", "both"):
        part_memmap(args)
    if args.part == "memory":
        part_memory(args)
    if args.part in ("dask", "both"):
        part_dask(args)


if __name__ == "__main__":
    main()
