package ot

import (
	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/tensor"
)

// The Sinkhorn iteration written with ad operations, as an iterdiff.Step
// over the state and parameters θ = (C, a, b). The derivative modes run it;
// the value-level solve (kernel.go, solve.go) computes the same iteration
// faster.

// stepSpec describes the iteration a Step performs.
type stepSpec struct {
	method     Method
	schedule   []stage // ε by iteration index
	tauA, tauB float64 // +Inf for a balanced side
}

func (s *stepSpec) eps(k int) float64 {
	e := s.schedule[0].eps
	for _, st := range s.schedule {
		if k >= st.start {
			e = st.eps
		}
	}
	return e
}

func (s *stepSpec) balanced() bool { return isInf(s.tauA) && isInf(s.tauB) }

// softminAxis returns −ε·log Σ_k w_k exp(z_k) along axis (0 or 1) of z,
// stabilized by the maximum of z taken as a constant (its derivative
// cancels exactly), with w a vector broadcast along the other axis.
func softminAxis(z, w *ad.Var, axis int, eps float64) *ad.Var {
	m := ad.Const(tensor.Max(z.Value(), []int{axis}, true))
	wb := w
	if axis == 1 {
		wb = ad.Reshape(w, 1, -1)
	} else {
		wb = ad.Reshape(w, -1, 1)
	}
	s := ad.Sum(ad.Mul(wb, ad.Exp(ad.Sub(z, m))), []int{axis}, true)
	r := ad.Scale(ad.Add(ad.Log(s), m), -eps)
	return ad.Reshape(r, -1)
}

// col and row reshape a vector to a column n×1 and a row 1×m.
func col(v *ad.Var) *ad.Var { return ad.Reshape(v, -1, 1) }
func row(v *ad.Var) *ad.Var { return ad.Reshape(v, 1, -1) }

// logUpdate is one log-domain iteration (f, g) → (f', g'); f' depends on g
// only.
func (s *stepSpec) logUpdate(eps float64, g, C, a, b *ad.Var) (*ad.Var, *ad.Var) {
	la, lb := lambda(s.tauA, eps), lambda(s.tauB, eps)
	zf := ad.Scale(ad.Sub(row(g), C), 1/eps)
	fn := softminAxis(zf, b, 1, eps)
	if la != 1 {
		fn = ad.Scale(fn, la)
	}
	zg := ad.Scale(ad.Sub(col(fn), C), 1/eps)
	gn := softminAxis(zg, a, 0, eps)
	if lb != 1 {
		gn = ad.Scale(gn, lb)
	}
	if s.balanced() {
		// fix the gauge (f + c, g − c) with mean(g) = 0: the plan does not
		// change, and the fixed point becomes isolated (Implicit mode)
		c := ad.Mean(gn, nil, false)
		gn = ad.Sub(gn, c)
		fn = ad.Add(fn, c)
	}
	return fn, gn
}

// kernelUpdate is one scaling iteration (u, v) → (u', v').
func (s *stepSpec) kernelUpdate(eps float64, v, C, a, b *ad.Var) (*ad.Var, *ad.Var) {
	la, lb := lambda(s.tauA, eps), lambda(s.tauB, eps)
	K := ad.Exp(ad.Scale(C, -1/eps))
	kv := ad.Reshape(ad.MatMul(K, col(v)), -1)
	un := scalePow(a, kv, la)
	ktu := ad.Reshape(ad.MatMulT(K, col(un), true, false), -1)
	vn := scalePow(b, ktu, lb)
	return un, vn
}

// scalePow returns w⊙x^(−λ).
func scalePow(w, x *ad.Var, lam float64) *ad.Var {
	if lam == 1 {
		return ad.Div(w, x)
	}
	return ad.Mul(w, ad.PowScalar(x, -lam))
}

// step returns the iteration as an iterdiff.Step.
func (s *stepSpec) step() iterdiff.Step {
	return func(k int, x, th []*ad.Var) []*ad.Var {
		eps := s.eps(k)
		C, a, b := th[0], th[1], th[2]
		if s.method == Kernel {
			u, v := s.kernelUpdate(eps, x[1], C, a, b)
			return []*ad.Var{u, v}
		}
		f, g := s.logUpdate(eps, x[1], C, a, b)
		return []*ad.Var{f, g}
	}
}

// potentials returns (f, g) from a state of the iteration at the final ε.
func (s *stepSpec) potentials(x []*ad.Var, C, a, b *ad.Var, eps float64) (*ad.Var, *ad.Var) {
	if s.method != Kernel {
		return x[0], x[1]
	}
	// u = a⊙(Kv)^(−λa) was computed from v: f = −λa·ε·log(Kv), and
	// g = −λb·ε·log(Kᵀu)
	la, lb := lambda(s.tauA, eps), lambda(s.tauB, eps)
	K := ad.Exp(ad.Scale(C, -1/eps))
	kv := ad.Reshape(ad.MatMul(K, col(x[1])), -1)
	ktu := ad.Reshape(ad.MatMulT(K, col(x[0]), true, false), -1)
	return ad.Scale(ad.Log(kv), -la*eps), ad.Scale(ad.Log(ktu), -lb*eps)
}

// plan returns P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε).
func plan(f, g, C, a, b *ad.Var, eps float64) *ad.Var {
	z := ad.Scale(ad.Sub(ad.Add(col(f), row(g)), C), 1/eps)
	return ad.Mul(ad.Mul(col(a), row(b)), ad.Exp(z))
}

// dualCost returns the dual objective at (f, g), whose maximum is the
// regularized cost: −ε·Σ_ij a_i b_j (e^((f_i+g_j−C_ij)/ε) − 1) plus ⟨f, a⟩
// (balanced side) or −τa·⟨a, e^(−f/τa) − 1⟩ (unbalanced side), and the
// same for g and b.
func dualCost(f, g, C, a, b, P *ad.Var, eps, tauA, tauB float64) *ad.Var {
	mass := ad.Sub(ad.SumAll(P), ad.Mul(ad.SumAll(a), ad.SumAll(b)))
	side := func(h, w *ad.Var, tau float64) *ad.Var {
		if isInf(tau) {
			return ad.SumAll(ad.Mul(h, w))
		}
		return ad.Scale(ad.SumAll(ad.Mul(w, ad.Expm1(ad.Scale(h, -1/tau)))), -tau)
	}
	return ad.Sub(ad.Add(side(f, a, tauA), side(g, b, tauB)), ad.Scale(mass, eps))
}
