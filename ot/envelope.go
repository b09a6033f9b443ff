package ot

import (
	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// The envelope (Danskin) rule of the regularized cost: OT(θ) is the
// maximum over (f, g) of the dual objective D(f, g; C, a, b), so its
// gradient is the partial gradient of D at the maximizer, with (f, g) held
// fixed: ∂D/∂C = P (the plan), and ∂D/∂a,
// ∂D/∂b as computed by envelopeGrads. No derivative flows through the
// iterations.

type envParams struct {
	value      float64
	dC, dA, dB *tensor.Tensor
}

var envelopePrim *ad.Prim

func init() {
	envelopePrim = &ad.Prim{
		Name: "ot.sinkhorn_cost_envelope",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			return tensor.Scalar(in[0].DType(), p.(*envParams).value)
		},
		JVP: func(c *ad.Call, t []*ad.Var) *ad.Var {
			p := c.Params.(*envParams)
			var out *ad.Var
			for i, d := range []*tensor.Tensor{p.dC, p.dA, p.dB} {
				if t[i] == nil {
					continue
				}
				term := ad.SumAll(ad.Mul(ad.Const(d), t[i]))
				if out == nil {
					out = term
				} else {
					out = ad.Add(out, term)
				}
			}
			return out
		},
		VJP: func(c *ad.Call, g *ad.Var) []*ad.Var {
			p := c.Params.(*envParams)
			return []*ad.Var{
				ad.Mul(g, ad.Const(p.dC)),
				ad.Mul(g, ad.Const(p.dA)),
				ad.Mul(g, ad.Const(p.dB)),
			}
		},
	}
}

// envelopeCost returns the regularized cost as a Var of (C, a, b) whose
// derivative is the envelope gradient at the potentials (f, g).
func envelopeCost(value float64, f, g, C, a, b *tensor.Tensor, eps, tauA, tauB float64) (*envParams, func(C, a, b *ad.Var) *ad.Var) {
	n, m := C.Dim(0), C.Dim(1)
	cd, fd, gd, ad_, bd := C.Data64(), f.Data64(), g.Data64(), a.Data64(), b.Data64()
	var sa, sb float64
	for _, v := range ad_ {
		sa += v
	}
	for _, v := range bd {
		sb += v
	}
	P := make([]float64, n*m)
	rs := make([]float64, n) // Σ_j b_j e^(…)
	cs := make([]float64, m) // Σ_i a_i e^(…)
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			e := fastExp((fd[i] + gd[j] - cd[i*m+j]) / eps)
			P[i*m+j] = ad_[i] * bd[j] * e
			rs[i] += bd[j] * e
			cs[j] += ad_[i] * e
		}
	}
	dA := make([]float64, n)
	for i := range dA {
		dA[i] = sideGrad(fd[i], tauA) - eps*(rs[i]-sb)
	}
	dB := make([]float64, m)
	for j := range dB {
		dB[j] = sideGrad(gd[j], tauB) - eps*(cs[j]-sa)
	}
	p := &envParams{
		value: value,
		dC:    tensor.Wrap64(P, n, m),
		dA:    tensor.Wrap64(dA, n),
		dB:    tensor.Wrap64(dB, m),
	}
	return p, func(C, a, b *ad.Var) *ad.Var { return ad.Apply(envelopePrim, p, C, a, b) }
}

// sideGrad is ∂/∂a_i of ⟨f, a⟩ (balanced) or −τ⟨a, e^(−f/τ) − 1⟩.
func sideGrad(h, tau float64) float64 {
	if isInf(tau) {
		return h
	}
	return -tau * expm1(-h/tau)
}
