#!/usr/bin/env python3
"""Reference Sinkhorn solutions from POT for the Go tests of package ot.

Run with Debian's POT (python3-pot, 0.8.2):
    /usr/bin/python3 make_pot_reference.py > pot_reference.json
The Go tests read pot_reference.json and do not need Python.

Each problem stores the inputs (cost matrix M, marginals a and b, reg) and
POT's plan and <P, M>, computed to machine precision (stopThr 1e-15 with a
large iteration budget). Balanced problems use ot.sinkhorn(method=
"sinkhorn_log"); unbalanced ones ot.sinkhorn_unbalanced (POT's entropy
H(P) = sum P log P - P and reg_m * KL on both marginals).
"""
import json

import numpy as np
import ot


def balanced(name, M, a, b, reg):
    P, log = ot.sinkhorn(a, b, M, reg, method="sinkhorn_log", numItermax=200000,
                         stopThr=1e-15, log=True)
    return dict(name=name, kind="balanced", M=M.tolist(), a=a.tolist(), b=b.tolist(),
                reg=reg, plan=P.tolist(), transport_cost=float(np.sum(P * M)),
                niter=int(log["niter"]))


def unbalanced(name, M, a, b, reg, reg_m):
    P, log = ot.sinkhorn_unbalanced(a, b, M, reg, reg_m, method="sinkhorn",
                                    numItermax=200000, stopThr=1e-15, log=True)
    return dict(name=name, kind="unbalanced", M=M.tolist(), a=a.tolist(), b=b.tolist(),
                reg=reg, reg_m=reg_m, plan=P.tolist(), transport_cost=float(np.sum(P * M)))


def main():
    rng = np.random.RandomState(0)
    out = []
    # random cost, random marginals
    M = rng.rand(5, 7)
    a = rng.rand(5) + 0.1
    a /= a.sum()
    b = rng.rand(7) + 0.1
    b /= b.sum()
    out.append(balanced("random5x7", M, a, b, 0.1))
    # point clouds in the unit square, squared Euclidean cost, uniform weights
    x = rng.rand(20, 2)
    y = rng.rand(15, 2)
    M = ot.dist(x, y)
    out.append(balanced("points20x15", M, ot.unif(20), ot.unif(15), 0.05))
    # small epsilon
    x = rng.rand(10, 2)
    y = rng.rand(12, 2)
    M = ot.dist(x, y)
    out.append(balanced("points10x12_eps0.01", M, ot.unif(10), ot.unif(12), 0.01))
    # unbalanced, different masses
    M = rng.rand(6, 8)
    a = rng.rand(6) + 0.1
    b = 2 * (rng.rand(8) + 0.1) / 8
    out.append(unbalanced("unbalanced6x8", M, a, b, 0.1, 1.0))
    print(json.dumps(dict(pot_version=ot.__version__, problems=out), indent=1))


if __name__ == "__main__":
    main()
