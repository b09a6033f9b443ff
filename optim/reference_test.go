package optim

import (
	"math"
	"math/cmplx"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// The expected values below are derived by hand from the published update
// rules, written out per coordinate, independently of the fused loops.

func TestAdamFirstStepIsSignStep(t *testing.T) {
	g := []float64{3, -0.5, 1e-3, -200}
	th0 := []float64{1, 2, -3, 0.5}
	for _, wd := range []float64{Zero, 0.1} {
		o := must(NewAdamW(AdamWConfig{LR: 0.01, WeightDecay: wd, State: State64}))
		p := tensor.FromFloat64s(tensor.Float64, th0)
		step1(t, o, p, tensor.FromFloat64s(tensor.Float64, g))
		want := make([]float64, len(g))
		w := o.Config().WeightDecay
		for i := range g {
			// m̂ = g, v̂ = g²: θ(1−lr·wd) − lr·g/(|g|+ε) ≈ θ(1−lr·wd) − lr·sign(g).
			want[i] = th0[i]*(1-0.01*w) - 0.01*g[i]/(math.Abs(g[i])+1e-8)
			if math.Abs(want[i]-(th0[i]*(1-0.01*w)-0.01*math.Copysign(1, g[i]))) > 1e-7 {
				t.Fatalf("sign step check")
			}
		}
		closeTo(t, "AdamW step 1", p.Data64(), want, 1e-15)
	}
}

func TestAdamReferenceSteps(t *testing.T) {
	rng := tensor.NewRNG(1)
	const n, steps = 5, 6
	lr, b1, b2, eps, l2 := 0.003, 0.8, 0.95, 1e-6, 0.05
	o := must(NewAdam(AdamConfig{LR: lr, Beta1: b1, Beta2: b2, Eps: eps, L2: l2, State: State64}))
	th := randVec(rng, n)
	p := tensor.FromFloat64s(tensor.Float64, th)
	m, v := make([]float64, n), make([]float64, n)
	for k := 1; k <= steps; k++ {
		g := randVec(rng, n)
		step1(t, o, p, tensor.FromFloat64s(tensor.Float64, g))
		for i := range th {
			gi := g[i] + l2*th[i]
			m[i] = b1*m[i] + (1-b1)*gi
			v[i] = b2*v[i] + (1-b2)*gi*gi
			mhat := m[i] / (1 - math.Pow(b1, float64(k)))
			vhat := v[i] / (1 - math.Pow(b2, float64(k)))
			th[i] -= lr * mhat / (math.Sqrt(vhat) + eps)
		}
		closeTo(t, "Adam", p.Data64(), th, 1e-12)
	}
}

func TestSGDMomentumClosedForm(t *testing.T) {
	// On f = ½hθ², heavy ball with b₀ = g₀ is x_{k+1} = M x_k for
	// x_k = (θ_k, b_{k−1}), b_{−1} = 0, M = [[1−lr·h, −lr·μ], [h, μ]], so
	// θ_k = c₁λ₁ᵏ + c₂λ₂ᵏ with λ the eigenvalues of M.
	for _, tc := range []struct{ h, lr, mu float64 }{{1, 0.1, 0.9}, {4, 0.05, 0.5}, {0.3, 0.5, 0.2}} {
		q := quad{h: []float64{tc.h}, b: []float64{0}}
		a, b, c, d := 1-tc.lr*tc.h, -tc.lr*tc.mu, tc.h, tc.mu
		tr, det := a+d, a*d-b*c
		disc := cmplx.Sqrt(complex(tr*tr-4*det, 0))
		l1, l2 := (complex(tr, 0)+disc)/2, (complex(tr, 0)-disc)/2
		// θ₀ = 1 = c₁ + c₂; θ₁ = a = c₁λ₁ + c₂λ₂.
		c2 := (complex(a, 0) - l1) / (l2 - l1)
		c1 := 1 - c2
		for _, k := range []int{1, 2, 5, 17, 40} {
			p := q.run(t, must(NewSGD(SGDConfig{LR: tc.lr, Momentum: tc.mu, State: State64})), tensor.Float64, []float64{1}, k)
			want := real(c1*cmplx.Pow(l1, complex(float64(k), 0)) + c2*cmplx.Pow(l2, complex(float64(k), 0)))
			if math.Abs(p.Data64()[0]-want) > 1e-12 {
				t.Errorf("h=%v lr=%v μ=%v: θ_%d = %.17g, closed form %.17g", tc.h, tc.lr, tc.mu, k, p.Data64()[0], want)
			}
		}
	}
}

func TestSGDReferenceSteps(t *testing.T) {
	th0 := []float64{1, -2}
	g1, g2 := []float64{0.5, 1}, []float64{-1, 2}
	lr, mu, wd, l2 := 0.1, 0.9, 0.5, 0.2
	cases := []struct {
		name string
		cfg  SGDConfig
		want func(i int) float64
	}{
		{"plain", SGDConfig{LR: lr}, func(i int) float64 { return th0[i] - lr*g1[i] - lr*g2[i] }},
		{"momentum", SGDConfig{LR: lr, Momentum: mu}, func(i int) float64 {
			b1 := g1[i]
			b2 := mu*b1 + g2[i]
			return th0[i] - lr*b1 - lr*b2
		}},
		{"nesterov", SGDConfig{LR: lr, Momentum: mu, Nesterov: true}, func(i int) float64 {
			b1 := g1[i]
			th1 := th0[i] - lr*(g1[i]+mu*b1)
			b2 := mu*b1 + g2[i]
			return th1 - lr*(g2[i]+mu*b2)
		}},
		{"dampening", SGDConfig{LR: lr, Momentum: mu, Dampening: 0.3}, func(i int) float64 {
			b1 := g1[i]
			b2 := mu*b1 + 0.7*g2[i]
			return th0[i] - lr*b1 - lr*b2
		}},
		{"decoupled", SGDConfig{LR: lr, WeightDecay: wd}, func(i int) float64 {
			th1 := th0[i]*(1-lr*wd) - lr*g1[i]
			return th1*(1-lr*wd) - lr*g2[i]
		}},
		{"l2", SGDConfig{LR: lr, L2: l2}, func(i int) float64 {
			th1 := th0[i] - lr*(g1[i]+l2*th0[i])
			return th1 - lr*(g2[i]+l2*th1)
		}},
	}
	for _, tc := range cases {
		for _, prec := range []Precision{State32, State64} {
			tc.cfg.State = prec
			o := must(NewSGD(tc.cfg))
			p := tensor.FromFloat64s(tensor.Float64, th0)
			step1(t, o, p, tensor.FromFloat64s(tensor.Float64, g1))
			step1(t, o, p, tensor.FromFloat64s(tensor.Float64, g2))
			want := []float64{tc.want(0), tc.want(1)}
			tol := 1e-15
			if prec == State32 {
				tol = 1e-7
			}
			closeTo(t, "SGD "+tc.name+" "+prec.String(), p.Data64(), want, tol)
		}
	}
}

func TestRMSpropReferenceSteps(t *testing.T) {
	th0 := []float64{1, -2, 0.5}
	g1, g2 := []float64{0.5, 1, -3}, []float64{-1, 2, 0.25}
	lr, al, eps, mu := 0.01, 0.9, 1e-8, 0.5
	for _, tc := range []struct {
		name string
		cfg  RMSpropConfig
		want func(i int) float64
	}{
		{"plain", RMSpropConfig{LR: lr, Alpha: al}, func(i int) float64 {
			v1 := (1 - al) * g1[i] * g1[i]
			th1 := th0[i] - lr*g1[i]/(math.Sqrt(v1)+eps)
			v2 := al*v1 + (1-al)*g2[i]*g2[i]
			return th1 - lr*g2[i]/(math.Sqrt(v2)+eps)
		}},
		{"centered", RMSpropConfig{LR: lr, Alpha: al, Centered: true}, func(i int) float64 {
			// after one step v − a² = α(1−α)g².
			th1 := th0[i] - lr*g1[i]/(math.Sqrt(al*(1-al))*math.Abs(g1[i])+eps)
			v2 := al*(1-al)*g1[i]*g1[i] + (1-al)*g2[i]*g2[i]
			a2 := al*(1-al)*g1[i] + (1-al)*g2[i]
			return th1 - lr*g2[i]/(math.Sqrt(v2-a2*a2)+eps)
		}},
		{"momentum", RMSpropConfig{LR: lr, Alpha: al, Momentum: mu}, func(i int) float64 {
			v1 := (1 - al) * g1[i] * g1[i]
			b1 := g1[i] / (math.Sqrt(v1) + eps)
			v2 := al*v1 + (1-al)*g2[i]*g2[i]
			b2 := mu*b1 + g2[i]/(math.Sqrt(v2)+eps)
			return th0[i] - lr*b1 - lr*b2
		}},
	} {
		tc.cfg.State = State64
		o := must(NewRMSprop(tc.cfg))
		p := tensor.FromFloat64s(tensor.Float64, th0)
		step1(t, o, p, tensor.FromFloat64s(tensor.Float64, g1))
		step1(t, o, p, tensor.FromFloat64s(tensor.Float64, g2))
		closeTo(t, "RMSprop "+tc.name, p.Data64(), []float64{tc.want(0), tc.want(1), tc.want(2)}, 1e-13)
	}
}

// With αβ = 1, ψ₀ = 0 and ψ stays 0, s₁ = 0, so INNAprop is bias-corrected
// RMSprop with step γβ: θ ← θ(1−γλ) − γβ·g/(√v̂+ε) (innaprop.md).
func TestINNApropAlphaBetaOneIsRMSprop(t *testing.T) {
	rng := tensor.NewRNG(7)
	for trial := range 20 {
		n := 3 + trial
		q := newQuad(rng, n)
		beta := 0.5 + 3*rng.Float64()
		alpha := 1 / beta
		lr := 0.2 * beta * rng.Float64()
		sigma := 0.9 + 0.099*rng.Float64()
		wd := 0.0
		if trial%2 == 1 {
			wd = 0.1 * rng.Float64()
		}
		// αβ need not be exactly 1 in floating point; the identity holds
		// up to that rounding.
		o := must(NewINNAprop(INNApropConfig{LR: lr, Alpha: alpha, Beta: beta, Sigma: sigma, WeightDecay: wd + Zero*b2f(wd == 0), State: State64}))
		th0 := randVec(rng, n)
		p := tensor.FromFloat64s(tensor.Float64, th0)
		g := tensor.New(tensor.Float64, n)
		// Independent reference: bias-corrected RMSprop written out, applied
		// at every step to the optimizer's own current θ (so that rounding
		// differences are not amplified by the dynamics, which are far from
		// contractive for large γβ).
		v := make([]float64, n)
		worst := 0.0
		for k := 1; k <= 60; k++ {
			q.gradInto(p, g)
			ref := p.Float64s()
			step1(t, o, p, g)
			for i := range ref {
				gi := g.Data64()[i]
				ref[i] *= 1 - lr*wd
				v[i] = sigma*v[i] + (1-sigma)*gi*gi
				vhat := v[i] / (1 - math.Pow(sigma, float64(k)))
				ref[i] -= lr * beta * gi / (math.Sqrt(vhat) + 1e-8)
				worst = max(worst, math.Abs(p.Data64()[i]-ref[i])/math.Max(1, math.Abs(ref[i])))
			}
			for _, x := range o.bufs[0][1].Data64() {
				if math.Abs(x) > 1e-14 {
					t.Fatalf("trial %d step %d: ψ = %v, want 0", trial, k, x)
				}
			}
		}
		if worst > 1e-14 {
			t.Errorf("trial %d (β=%v γ=%v σ=%v λ=%v): max relative gap to RMSprop %.3g", trial, beta, lr, sigma, wd, worst)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// The INNAprop recursion of innaprop.md, for constant γ and λ = 0:
// θ₁ = θ₀ − γβĝ₀, θ_{k+1} = θ_k + (1−αγ)(θ_k−θ_{k−1}) − γβ(ĝ_k−ĝ_{k−1}) − γ²ĝ_{k−1}.
func TestINNApropTwoStepRecursion(t *testing.T) {
	rng := tensor.NewRNG(3)
	n := 6
	q := newQuad(rng, n)
	lr, alpha, beta, sigma, eps := 0.05, 0.7, 1.3, 0.99, 1e-8
	o := must(NewINNAprop(INNApropConfig{LR: lr, Alpha: alpha, Beta: beta, Sigma: sigma, WeightDecay: Zero, State: State64}))
	p := tensor.FromFloat64s(tensor.Float64, randVec(rng, n))
	g := tensor.New(tensor.Float64, n)
	v := make([]float64, n)
	var prev, prevHat []float64
	for k := 0; k < 40; k++ {
		cur := p.Float64s()
		q.gradInto(p, g)
		hat := make([]float64, n)
		for i := range hat {
			gi := g.Data64()[i]
			v[i] = sigma*v[i] + (1-sigma)*gi*gi
			hat[i] = gi / (math.Sqrt(v[i]/(1-math.Pow(sigma, float64(k+1)))) + eps)
		}
		step1(t, o, p, g)
		want := make([]float64, n)
		for i := range want {
			if k == 0 {
				want[i] = cur[i] - lr*beta*hat[i]
			} else {
				want[i] = cur[i] + (1-alpha*lr)*(cur[i]-prev[i]) - lr*beta*(hat[i]-prevHat[i]) - lr*lr*prevHat[i]
			}
		}
		closeTo(t, "INNAprop recursion", p.Data64(), want, 1e-12)
		prev, prevHat = cur, hat
	}
}
