package ot

import (
	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// Iterate runs iters Sinkhorn iterations of o.Method (at the final ε; no
// ε-scaling) from the initial potentials f = g = 0, written with ad
// operations, and calls visit with the iteration count k = 1, 2, … and the
// plan P_k after each iteration, until visit returns false. When C, a or b
// carry tangents of a surrounding ad.Forward, P_k carries the tangent
// dP_k: this is the forward-mode (piggyback) derivative of the iterates,
// as studied by Pauwels and Vaiter, "The derivatives of Sinkhorn-Knopp
// converge" (2022). Options other than Eps, Method, TauA and TauB are
// ignored. It is meant for small problems and studies of the iterates;
// Sinkhorn is the fast solver.
func Iterate(C, a, b *ad.Var, o Options, iters int, visit func(k int, plan *ad.Var) bool) error {
	o.Mode, o.EpsScaling = nil, nil
	pr, a, b, err := newProblem(C, a, b, &o)
	if err != nil {
		return err
	}
	spec := &stepSpec{method: o.Method, schedule: []stage{{0, o.Eps}}, tauA: pr.tauA, tauB: pr.tauB}
	T := spec.step()
	x := []*ad.Var{
		ad.Const(tensor.Zeros(tensor.Float64, pr.n)),
		ad.Const(tensor.Zeros(tensor.Float64, pr.m)),
	}
	if o.Method == Kernel {
		x = []*ad.Var{ad.Const(tensor.Ones(tensor.Float64, pr.n)), b}
	}
	th := []*ad.Var{C, a, b}
	for k := 1; k <= iters; k++ {
		x = T(k-1, x, th)
		var P *ad.Var
		if o.Method == Kernel {
			// P = diag(u) K diag(v)
			K := ad.Exp(ad.Scale(C, -1/o.Eps))
			P = ad.Mul(ad.Mul(col(x[0]), K), row(x[1]))
		} else {
			P = plan(x[0], x[1], C, a, b, o.Eps)
		}
		if !visit(k, P) {
			break
		}
	}
	return nil
}
