#!/usr/bin/env python3
"""Times POT's sinkhorn_log on the problem of BenchmarkSinkhornLog.

n = m = 1000 points uniform in the unit square, squared Euclidean cost,
uniform weights, reg = 0.05, exactly 1000 iterations (stopThr = 0, so the
stopping test never fires), float64. Prints the seconds of one solve (best
of --repeat).
"""
import argparse
import time

import numpy as np
import ot

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=1000)
p.add_argument("--iters", type=int, default=1000)
p.add_argument("--repeat", type=int, default=1)
args = p.parse_args()

rng = np.random.RandomState(1)
x = rng.rand(args.n, 2)
y = rng.rand(args.n, 2)
M = ot.dist(x, y)
a = ot.unif(args.n)
best, cpu = float("inf"), 0.0
for _ in range(args.repeat):
    t0, c0 = time.perf_counter(), time.process_time()
    ot.bregman.sinkhorn_log(a, a, M, 0.05, numItermax=args.iters, stopThr=0.0, warn=False)
    if time.perf_counter() - t0 < best:
        best, cpu = time.perf_counter() - t0, time.process_time() - c0
print("POT %s sinkhorn_log n=%d iters=%d (%.3f CPU-s): %.3f s" % (ot.__version__, args.n, args.iters, cpu, best))
