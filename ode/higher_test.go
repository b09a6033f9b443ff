package ode

import (
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// TestSecondOrder: Hessian-vector products (forward over reverse) through
// the discrete adjoint, with and without checkpoints, match central
// differences of gradients and the forward-over-forward Hessian column.
func TestSecondOrder(t *testing.T) {
	rng := tensor.NewRNG(4)
	W1 := rng.Normal(tensor.Float64, 6, 2)
	W2 := tensor.Scale(rng.Normal(tensor.Float64, 2, 6), 0.5)
	f := func(tt float64, x *ad.Var, th []*ad.Var) *ad.Var {
		hdn := ad.Tanh(ad.Add(ad.Reshape(ad.MatMul(ad.Const(W1), ad.Reshape(x, -1, 1)), -1), th[0]))
		return ad.Reshape(ad.MatMul(ad.Const(W2), ad.Reshape(hdn, -1, 1)), -1)
	}
	theta := rng.Normal(tensor.Float64, 6)
	v := rng.Normal(tensor.Float64, 6)
	x0 := vec(0.5, -1)
	for _, o := range []Options{{Method: RK4, Step: 0.1}, {RTol: 1e-8, ATol: 1e-8, Adjoint: DiscreteAdjoint{Checkpoints: 3}}} {
		J := func(xs ...*ad.Var) *ad.Var {
			sol, err := Solve(f, x0, xs, 0, 1.5, o)
			if err != nil {
				t.Fatal(err)
			}
			x := sol.Final()
			return ad.SumAll(ad.Mul(x, x))
		}
		hv, err := ad.HVP(J, []*ad.Var{ad.Const(theta)}, []*ad.Var{ad.Const(v)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		grad := func(th *tensor.Tensor) *tensor.Tensor {
			g, err := ad.Grad(J, []*ad.Var{ad.Const(th)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return g[0].Value()
		}
		h := 1e-5
		fd := tensor.Scale(tensor.Sub(grad(tensor.Add(theta, tensor.Scale(v, h))), grad(tensor.Sub(theta, tensor.Scale(v, h)))), 1/(2*h))
		d := maxDiff(hv[0].Value(), fd)
		t.Logf("%v %v: HVP vs FD of discrete-adjoint gradients: %.2e (|HVP| %.2e)", o.Method, o.Adjoint, d, maxAbs(fd))
		if d > 1e-7*max(1, maxAbs(fd)) && o.Method != Dopri5 {
			t.Errorf("%v: HVP off by %.3g", o.Method, d)
		}
		if d > 1e-4*max(1, maxAbs(fd)) {
			t.Errorf("%v: HVP off by %.3g", o.Method, d)
		}
	}
}

// TestCheckpointMemory: the default discrete adjoint holds a bounded
// number of states on a long solve and gives the same gradient as keeping
// every state.
func TestCheckpointMemory(t *testing.T) {
	A := tensor.FromFloat64s(tensor.Float64, []float64{0, 1, -1, -0.01}, 2, 2)
	x0 := vec(1, 0)
	grad := func(o Options) (*tensor.Tensor, *Stats) {
		var st *Stats
		g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			sol, err := Solve(linear, x0, xs, 0, 200, o)
			if err != nil {
				t.Fatal(err)
			}
			st = sol.Stats
			return ad.SumAll(sol.Final())
		}, []*ad.Var{ad.Const(A)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return g[0].Value(), st
	}
	gAll, stAll := grad(Options{RTol: 1e-9, ATol: 1e-9, Adjoint: DiscreteAdjoint{Checkpoints: CheckpointAll}})
	gDef, stDef := grad(Options{RTol: 1e-9, ATol: 1e-9})
	N := stDef.Accepted
	t.Logf("%d steps: all states: stored %d, recomputed %d; default: stored %d, recomputed %d; gradients differ by %.1e",
		N, stAll.StoredStates, stAll.Recomputed, stDef.StoredStates, stDef.Recomputed, maxDiff(gAll, gDef))
	if maxDiff(gAll, gDef) > 1e-12*maxAbs(gAll) {
		t.Errorf("gradients differ by %.3g", maxDiff(gAll, gDef))
	}
	if stDef.StoredStates > 64+2*N/64+1 || stDef.Recomputed > N {
		t.Errorf("default checkpointing holds %d states and recomputes %d for %d steps", stDef.StoredStates, stDef.Recomputed, N)
	}
}
