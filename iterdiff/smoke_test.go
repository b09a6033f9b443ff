package iterdiff

import (
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"gonum.org/v1/gonum/mat"
)

func TestSmokeRidge(t *testing.T) {
	rng := newRNG(1)
	m, n := 12, 5
	A := randMat(rng, m, n)
	lam := 0.5
	Av := matVar(A)
	_, L := extremeEig(A, lam)
	gamma := 1 / L
	grad := func(x *ad.Var, th []*ad.Var) *ad.Var {
		r := ad.Sub(MatVec(Av, x, false), th[0])
		return ad.Add(MatVec(Av, r, true), ad.Scale(x, lam))
	}
	T := GradientDescent(grad, Constant(gamma))
	y := vecVar(randVec(rng, m))
	x0 := vecVar(make([]float64, n))
	var Jstar mat.Dense
	Jstar.Mul(gramInv(A, lam), A.T())
	for _, mode := range []Mode{Unroll{Checkpoints: CheckpointNone}, Unroll{}, Unroll{Checkpoints: 3}, Piggyback{}, Implicit{}, Implicit{Solver: "cg"}, KStep{K: 2000}} {
		for _, jm := range []ad.JacobianMode{ad.ForwardMode, ad.Reverse} {
			var info *Info
			f := func(y *ad.Var) *ad.Var {
				xs, in, err := FixedPoint(T, []*ad.Var{x0}, []*ad.Var{y}, Options{Mode: mode, Tol: 1e-13, MaxIter: 5000})
				if err != nil {
					t.Fatal(err)
				}
				info = in
				return xs[0]
			}
			J := jacobian(t, f, y, jm, nil)
			d := maxAbsDiff(J, &Jstar)
			t.Logf("%v: max err %.3g; %v", jm, d, info)
			if d > 1e-9 {
				t.Errorf("%s %v: Jacobian error %.3g", ModeName(mode), jm, d)
			}
		}
	}
}

// TestSecondOrder: Hessian-vector products through the solution map, by
// every mode whose derivative is exact at convergence, agree with each
// other and with finite differences of the gradient.
func TestSecondOrder(t *testing.T) {
	rng := newRNG(2)
	m, n := 10, 4
	A := randMat(rng, m, n)
	Av := matVar(A)
	y := vecVar(randVec(rng, m))
	// θ = (log λ, y-shift s): x*(θ) = argmin ½‖Ax − (y + s)‖² + e^{θ₀}/2‖x‖²
	grad := func(x *ad.Var, th []*ad.Var) *ad.Var {
		r := ad.Sub(MatVec(Av, x, false), ad.Add(y, th[1]))
		return ad.Add(MatVec(Av, r, true), ad.Mul(ad.Exp(th[0]), x))
	}
	_, L := extremeEig(A, 1)
	T := GradientDescent(grad, Constant(1/L))
	x0 := vecVar(make([]float64, n))
	th0 := scalarVar(0.1)
	th1 := vecVar(randVec(rng, m))
	loss := func(mode Mode) func(xs ...*ad.Var) *ad.Var {
		return func(xs ...*ad.Var) *ad.Var {
			sol, _, err := FixedPoint(T, []*ad.Var{x0}, xs, Options{Mode: mode, Tol: 1e-14, MaxIter: 20000})
			if err != nil {
				t.Fatal(err)
			}
			x := sol[0]
			return ad.Add(ad.SumAll(ad.Square(x)), ad.SumAll(ad.Mul(x, ad.Sin(x))))
		}
	}
	v0 := scalarVar(0.7)
	v1 := vecVar(randVec(rng, m))
	ref, err := ad.HVP(loss(Unroll{Checkpoints: CheckpointNone}), []*ad.Var{th0, th1}, []*ad.Var{v0, v1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// finite differences of the implicit gradient
	h := 1e-5
	gradAt := func(s float64) []float64 {
		a := ad.Const(ad.Add(th0, ad.Scale(v0, s)).Value())
		b := ad.Const(ad.Add(th1, ad.Scale(v1, s)).Value())
		gs, err := ad.Grad(loss(Implicit{}), []*ad.Var{a, b}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return append(vals(gs[0]), vals(gs[1])...)
	}
	gp, gm := gradAt(h), gradAt(-h)
	fd := make([]float64, len(gp))
	for i := range fd {
		fd[i] = (gp[i] - gm[i]) / (2 * h)
	}
	refv := append(vals(ref[0]), vals(ref[1])...)
	if d := maxAbsDiffVec(refv, fd); d > 1e-6 {
		t.Errorf("unrolled HVP vs FD of gradient: %.3g", d)
	}
	for _, mode := range []Mode{Implicit{}, Piggyback{}, Unroll{Checkpoints: 4}} {
		hv, err := ad.HVP(loss(mode), []*ad.Var{th0, th1}, []*ad.Var{v0, v1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := append(vals(hv[0]), vals(hv[1])...)
		d := maxAbsDiffVec(got, refv)
		t.Logf("%s: HVP max diff from unrolled %.3g", ModeName(mode), d)
		if d > 1e-8 {
			t.Errorf("%s: HVP differs from unrolled by %.3g", ModeName(mode), d)
		}
	}
}
