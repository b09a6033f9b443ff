package ot

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/tensor"
)

// smallProblem returns a cost between random points and random marginals.
func smallProblem(n, m int, seed uint64) (C, a, b *tensor.Tensor) {
	rng := tensor.NewRNG(seed)
	x := rng.Uniform(tensor.Float64, 0, 1, n, 2)
	y := rng.Uniform(tensor.Float64, 0, 1, m, 2)
	C = SqEuclidean(ad.Const(x), ad.Const(y)).Value()
	a = rng.Uniform(tensor.Float64, 0.5, 1.5, n)
	b = rng.Uniform(tensor.Float64, 0.5, 1.5, m)
	a = tensor.Scale(a, 1/tensor.Sum(a, nil, false).Item())
	b = tensor.Scale(b, 1/tensor.Sum(b, nil, false).Item())
	return
}

func maxAbsDiff(x, y *tensor.Tensor) float64 {
	d := 0.0
	for i := 0; i < x.Size(); i++ {
		d = math.Max(d, math.Abs(x.AtFlat(i)-y.AtFlat(i)))
	}
	return d
}

// TestModesAgree: implicit, piggyback and unrolled derivatives of the
// plan agree at convergence, in reverse mode (gradients of ⟨W, P⟩ in C, a
// and b) and in forward mode (tangent of P), balanced and unbalanced.
func TestModesAgree(t *testing.T) {
	C, a, b := smallProblem(7, 5, 1)
	W := tensor.NewRNG(9).Normal(tensor.Float64, 7, 5)
	dC := tensor.NewRNG(10).Normal(tensor.Float64, 7, 5)
	modes := []iterdiff.Mode{iterdiff.Implicit{}, iterdiff.Piggyback{}, iterdiff.Unroll{Checkpoints: iterdiff.CheckpointNone}, iterdiff.Unroll{Checkpoints: iterdiff.CheckpointSqrt}, iterdiff.Unroll{Checkpoints: 2}}
	for _, tc := range []struct {
		name       string
		tau, tauB  float64
		method     Method
		epsScaling *EpsScaling
	}{
		{"balanced-log", 0, 0, LogDomain, nil},
		{"balanced-kernel", 0, 0, Kernel, nil},
		{"balanced-log-epsscaling", 0, 0, LogDomain, &EpsScaling{Init: 2, Decay: 0.5}},
		{"unbalanced-log", 0.7, 0.7, LogDomain, nil},
		{"unbalanced-kernel", 0.7, 0.7, Kernel, nil},
		{"semi-unbalanced-log", 0, 0.7, LogDomain, nil},
	} {
		var grads [][]*ad.Var
		var tans []*ad.Var
		for _, mode := range modes {
			o := Options{Eps: 0.2, Tol: 1e-14, MaxIter: 5000, Mode: mode, Method: tc.method, TauA: tc.tau, TauB: tc.tauB, EpsScaling: tc.epsScaling}
			f := func(xs ...*ad.Var) *ad.Var {
				res, err := Sinkhorn(xs[0], xs[1], xs[2], o)
				if err != nil {
					t.Fatalf("%s %s: %v", tc.name, iterdiff.ModeName(mode), err)
				}
				return ad.SumAll(ad.Mul(res.Plan, ad.Const(W)))
			}
			gs, err := ad.Grad(f, []*ad.Var{ad.Const(C), ad.Const(a), ad.Const(b)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			grads = append(grads, gs)
			_, tan, err := ad.JVP(func(xs ...*ad.Var) *ad.Var {
				res, err := Sinkhorn(xs[0], ad.Const(a), ad.Const(b), o)
				if err != nil {
					t.Fatal(err)
				}
				return res.Plan
			}, []*ad.Var{ad.Const(C)}, []*ad.Var{ad.Const(dC)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			tans = append(tans, tan)
		}
		for k := 1; k < len(modes); k++ {
			worst := 0.0
			for i := range grads[0] {
				g0, gk := grads[0][i].Value(), grads[k][i].Value()
				if i > 0 && tc.tau == 0 && tc.tauB == 0 {
					// balanced: only mass-preserving perturbations of the
					// marginals are meaningful; compare centered gradients
					g0, gk = centered(g0), centered(gk)
				}
				worst = math.Max(worst, maxAbsDiff(gk, g0))
			}
			tw := maxAbsDiff(tans[k].Value(), tans[0].Value())
			t.Logf("%-24s %-10s %-5v vs implicit: VJP max diff %.2e, JVP max diff %.2e", tc.name, iterdiff.ModeName(modes[k]), modes[k], worst, tw)
			if worst > 1e-8 || tw > 1e-8 {
				t.Errorf("%s: %s differs from implicit by %.3g (VJP), %.3g (JVP)", tc.name, iterdiff.ModeName(modes[k]), worst, tw)
			}
		}
	}
}

// TestEnvelopeGradient: the Danskin gradient of the regularized cost
// equals central finite differences of the cost, and the gradient of the
// cost differentiated through the implicit mode.
func TestEnvelopeGradient(t *testing.T) {
	C, a, b := smallProblem(6, 8, 2)
	for _, tau := range []float64{0, 0.5} {
		o := Options{Eps: 0.1, Tol: 1e-14, MaxIter: 10000, Envelope: true, Mode: iterdiff.Detach{}, TauA: tau, TauB: tau}
		cost := func(C, a, b *tensor.Tensor, o Options) float64 {
			res, err := Sinkhorn(ad.Const(C), ad.Const(a), ad.Const(b), o)
			if err != nil {
				t.Fatal(err)
			}
			return res.Cost.Item()
		}
		f := func(xs ...*ad.Var) *ad.Var {
			res, err := Sinkhorn(xs[0], xs[1], xs[2], o)
			if err != nil {
				t.Fatal(err)
			}
			return res.Cost
		}
		gs, err := ad.Grad(f, []*ad.Var{ad.Const(C), ad.Const(a), ad.Const(b)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		oi := o
		oi.Envelope, oi.Mode = false, iterdiff.Implicit{}
		gi, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			res, err := Sinkhorn(xs[0], ad.Const(a), ad.Const(b), oi)
			if err != nil {
				t.Fatal(err)
			}
			return res.Cost
		}, []*ad.Var{ad.Const(C)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// finite differences in C (all entries) and along a direction of
		// the marginals that keeps the masses equal when balanced
		h := 1e-6
		worst := 0.0
		for i := 0; i < C.Size(); i++ {
			cp, cm := C.Clone(), C.Clone()
			cp.SetFlat(i, C.AtFlat(i)+h)
			cm.SetFlat(i, C.AtFlat(i)-h)
			fd := (cost(cp, a, b, o) - cost(cm, a, b, o)) / (2 * h)
			worst = math.Max(worst, math.Abs(fd-gs[0].Value().AtFlat(i)))
		}
		da := tensor.Zeros(tensor.Float64, a.Size())
		da.SetFlat(0, 1)
		da.SetFlat(1, -1)
		ap, am := tensor.Add(a, tensor.Scale(da, h)), tensor.Sub(a, tensor.Scale(da, h))
		fdA := (cost(C, ap, b, o) - cost(C, am, b, o)) / (2 * h)
		envA := gs[1].Value().AtFlat(0) - gs[1].Value().AtFlat(1)
		implDiff := maxAbsDiff(gi[0].Value(), gs[0].Value())
		t.Logf("τ=%g: envelope vs FD: C max diff %.2e, a-direction %.2e; envelope vs implicit (C) %.2e", tau, worst, math.Abs(fdA-envA), implDiff)
		if worst > 1e-7 || math.Abs(fdA-envA) > 1e-7 || implDiff > 1e-9 {
			t.Errorf("τ=%g: envelope gradient off: FD C %.3g, FD a %.3g, implicit %.3g", tau, worst, math.Abs(fdA-envA), implDiff)
		}
	}
}

func centered(x *tensor.Tensor) *tensor.Tensor {
	return tensor.AddScalar(x, -tensor.Mean(x, nil, false).Item())
}

// TestUnrollExact: the unrolled derivative is the exact derivative of
// the K iterations run (here few, far from convergence), for both
// methods: it matches finite differences of the same K iterations.
func TestUnrollExact(t *testing.T) {
	C, a, b := smallProblem(5, 4, 12)
	W := tensor.NewRNG(2).Normal(tensor.Float64, 5, 4)
	for _, m := range []Method{LogDomain, Kernel} {
		o := Options{Eps: 0.05, MaxIter: 7, Tol: -1, Method: m, Mode: iterdiff.Unroll{}}
		J := func(xs ...*ad.Var) *ad.Var {
			res, err := Sinkhorn(xs[0], xs[1], xs[2], o)
			if err != nil {
				t.Fatal(err)
			}
			return ad.SumAll(ad.Mul(res.Plan, ad.Const(W)))
		}
		gs, err := ad.Grad(J, []*ad.Var{ad.Const(C), ad.Const(a), ad.Const(b)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		h := 1e-6
		// perturb C only (a and b must keep equal masses)
		for i := 0; i < C.Size(); i++ {
			cp, cm := C.Clone(), C.Clone()
			cp.SetFlat(i, C.AtFlat(i)+h)
			cm.SetFlat(i, C.AtFlat(i)-h)
			fd := (J(ad.Const(cp), ad.Const(a), ad.Const(b)).Item() - J(ad.Const(cm), ad.Const(a), ad.Const(b)).Item()) / (2 * h)
			worst = math.Max(worst, math.Abs(fd-gs[0].Value().AtFlat(i)))
		}
		// a mass-preserving direction of b
		db := tensor.Zeros(tensor.Float64, b.Size())
		db.SetFlat(0, 1)
		db.SetFlat(2, -1)
		fdb := (J(ad.Const(C), ad.Const(a), ad.Const(tensor.Add(b, tensor.Scale(db, h)))).Item() -
			J(ad.Const(C), ad.Const(a), ad.Const(tensor.Sub(b, tensor.Scale(db, h)))).Item()) / (2 * h)
		gb := gs[2].Value().AtFlat(0) - gs[2].Value().AtFlat(2)
		t.Logf("%v, 7 iterations: unrolled gradient vs FD: C %.1e, b-direction %.1e", m, worst, math.Abs(fdb-gb))
		if worst > 1e-7 || math.Abs(fdb-gb) > 1e-7 {
			t.Errorf("%v: unrolled gradient off: %.3g, %.3g", m, worst, math.Abs(fdb-gb))
		}
	}
}
