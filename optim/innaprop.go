package optim

import (
	"math"

	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/tensor"
)

// INNApropConfig holds the hyperparameters of INNAprop. Zero fields take
// the defaults of the reference class (lr 1e-3, α 0.1, β 0.9, σ 0.999,
// ε 1e-8, weight decay 0.01); use [Zero] for an explicit zero.
type INNApropConfig struct {
	LR          float64   `json:"lr"`           // γ, step size; must stay below Beta
	Alpha       float64   `json:"alpha"`        // α ≥ 0, friction (momentum decay 1−αγ per step)
	Beta        float64   `json:"beta"`         // β > γ, Hessian-driven damping
	Sigma       float64   `json:"sigma"`        // σ in [0, 1), second-moment decay
	Eps         float64   `json:"eps"`          // ε ≥ 0, added after the square root and bias correction
	WeightDecay float64   `json:"weight_decay"` // λ ≥ 0, decoupled: θ ← θ(1−γλ) first
	Maximize    bool      `json:"maximize"`     // ascend: use −g in place of g
	State       Precision `json:"state"`        // dtype of v and ψ
}

func (c INNApropConfig) withDefaults() INNApropConfig {
	c.LR = orDefault(c.LR, 1e-3)
	c.Alpha = orDefault(c.Alpha, 0.1)
	c.Beta = orDefault(c.Beta, 0.9)
	c.Sigma = orDefault(c.Sigma, 0.999)
	c.Eps = orDefault(c.Eps, 1e-8)
	c.WeightDecay = orDefault(c.WeightDecay, 0.01)
	return c
}

func (c INNApropConfig) validate() error {
	const k = "INNAprop"
	switch {
	case !(c.Alpha >= 0) || !finite(c.Alpha):
		return fieldError(k, "Alpha", c.Alpha, "a finite value ≥ 0")
	case !(c.Beta > 0) || !finite(c.Beta):
		return fieldError(k, "Beta", c.Beta, "a finite value > 0")
	case !(c.Sigma >= 0 && c.Sigma < 1):
		return fieldError(k, "Sigma", c.Sigma, "a value in [0, 1)")
	case !(c.Eps >= 0) || !finite(c.Eps):
		return fieldError(k, "Eps", c.Eps, "a finite value ≥ 0")
	case !(c.WeightDecay >= 0) || !finite(c.WeightDecay):
		return fieldError(k, "WeightDecay", c.WeightDecay, "a finite value ≥ 0")
	case c.State > State64:
		return fieldError(k, "State", float64(c.State), "State32 or State64")
	}
	return innapropLR(c.LR, c.Beta)
}

// innapropLR checks γ: the method divides by β−γ, so γ < β is required.
func innapropLR(lr, beta float64) error {
	if err := checkLR("INNAprop", lr); err != nil {
		return err
	}
	if !(lr < beta) {
		return fieldError("INNAprop", "LR", lr, "a value < Beta = "+ftoa(beta)+" (the update divides by Beta−LR)")
	}
	return nil
}

// INNAprop is the inertial Newton method with RMSprop scaling of Bolte,
// Boustany, Pauwels and Purica (arXiv 2410.05871), implemented as the
// reference class innaprop.py. With v, ψ per parameter and step t, one step
// is
//
//	θ ← θ(1−γλ)
//	v ← vσ + (1−σ)g²
//	denom = √v/√(1−σᵗ) + ε
//	ψ ← ψ(1−γ/β) + γ(1/β−α)θ
//	θ ← θ(1+γ(1−βα)/(β−γ)) − γ/(β−γ)·ψ − γβ·g/denom
//
// with ψ = (1−αβ)θ set from the parameters at the first step. The
// learning rate γ is read at every step, so schedules change every
// coefficient; Step fails if γ ≥ β.
type INNAprop struct {
	core
	cfg INNApropConfig
	k64 innapropCoef[float64]
	k32 innapropCoef[float32]
}

// NewINNAprop returns an INNAprop optimizer.
func NewINNAprop(cfg INNApropConfig) (*INNAprop, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := &INNAprop{core: core{kind: "INNAprop", lr: cfg.LR, prec: cfg.State, names: []string{"exp_avg_sq", "psi"}}, cfg: cfg}
	o.fn = o.update
	return o, nil
}

// Config returns the hyperparameters, with LR the current learning rate.
func (o *INNAprop) Config() INNApropConfig { c := o.cfg; c.LR = o.lr; return c }

// State returns a copy of the optimizer state.
func (o *INNAprop) State() *State { return o.snapshot(o.Config()) }

// Load replaces the state and hyperparameters by s.
func (o *INNAprop) Load(s *State) error {
	var cfg INNApropConfig
	if err := o.decode(s, &cfg); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if err := o.install(s, o.names, cfg.LR, cfg.State); err != nil {
		return err
	}
	o.cfg = cfg
	return nil
}

type innapropCoef[C float] struct {
	gsign, decay, sigma, oneMinusSigma, sqrtBC, eps, psiKeep, psiTheta, thetaKeep, s2, gScale C
}

func newInnapropCoef[C float](c INNApropConfig, lr float64, t int) innapropCoef[C] {
	a, b, wd, sigma := c.Alpha, c.Beta, c.WeightDecay, c.Sigma
	// Explicit float64 conversions keep x*y±z from being fused into an
	// FMA, so the coefficients are the reference's Python doubles.
	s1 := lr * (1 - float64(b*a)) / (b - lr)
	s2 := lr / (b - lr)
	bc := 1 - powi(sigma, t)
	return innapropCoef[C]{
		gsign:         C(gsign(c.Maximize)),
		decay:         C(1 - float64(lr*wd)),
		sigma:         C(sigma),
		oneMinusSigma: C(1 - sigma),
		sqrtBC:        C(math.Sqrt(bc)),
		eps:           C(c.Eps),
		psiKeep:       C(1 - lr/b),
		psiTheta:      C(lr * (1/b - a)),
		thetaKeep:     C(1 + s1),
		s2:            C(s2),
		gScale:        C(-lr * b),
	}
}

// Step applies one INNAprop update.
func (o *INNAprop) Step(params, grads []*tensor.Tensor) error {
	if err := innapropLR(o.lr, o.cfg.Beta); err != nil {
		return err
	}
	fresh, err := o.prepare(params, grads)
	if err != nil {
		return err
	}
	if fresh {
		// ψ₀ = (1−αβ)θ₀, from the parameters before any decay.
		ab := 1 - float64(o.cfg.Alpha*o.cfg.Beta)
		for i, p := range params {
			psi := o.bufs[i][1]
			for j := range p.Size() {
				psi.SetFlat(j, ab*p.AtFlat(j))
			}
		}
	}
	o.t++
	o.k64 = newInnapropCoef[float64](o.cfg, o.lr, o.t)
	o.k32 = newInnapropCoef[float32](o.cfg, o.lr, o.t)
	o.apply(params, grads)
	return nil
}

// update applies the step to one chunk.
func (o *INNAprop) update(ch chunk) {
	p, g, b := o.params[ch.i], o.grads[ch.i], o.bufs[ch.i]
	switch o.mode(p) {
	case p64s64:
		innapropLoop(sub64(p, ch), sub64(g, ch), sub64(b[0], ch), sub64(b[1], ch), o.k64)
	case p64s32:
		innapropLoop(sub64(p, ch), sub64(g, ch), sub32(b[0], ch), sub32(b[1], ch), o.k64)
	case p32s64:
		innapropLoop(sub32(p, ch), sub32(g, ch), sub64(b[0], ch), sub64(b[1], ch), o.k64)
	case p32s32:
		k := o.k32.kernel()
		kernels.INNAprop32(sub32(p, ch), sub32(g, ch), sub32(b[0], ch), sub32(b[1], ch), &k)
	}
	roundChunk(p, ch)
}

// kernel returns the float32 coefficients for kernels.INNAprop32, which
// runs innapropLoop (all float32) in SIMD with the same roundings.
func (k innapropCoef[C]) kernel() kernels.INNApropCoef32 {
	return kernels.INNApropCoef32{
		GSign: float32(k.gsign), Decay: float32(k.decay), Sigma: float32(k.sigma),
		OneMinusSigma: float32(k.oneMinusSigma), SqrtBC: float32(k.sqrtBC), Eps: float32(k.eps),
		PsiKeep: float32(k.psiKeep), PsiTheta: float32(k.psiTheta), ThetaKeep: float32(k.thetaKeep),
		S2: float32(k.s2), GScale: float32(k.gScale),
	}
}

// innapropLoop is the fused update of one tensor, in the operation order
// of the reference (explicit conversions keep products from being fused
// into FMAs, so float64 results match it bit for bit).
func innapropLoop[P, S, C float](p, g []P, v, psi []S, k innapropCoef[C]) {
	g = g[:len(p)]
	v = v[:len(p)]
	psi = psi[:len(p)]
	for i := range p {
		gi := C(g[i]) * k.gsign
		th := C(C(p[i]) * k.decay)
		vs := S(C(C(v[i])*k.sigma) + C(C(k.oneMinusSigma*gi)*gi))
		v[i] = vs
		denom := C(sqrt(C(vs))/k.sqrtBC) + k.eps
		ps := S(C(C(psi[i])*k.psiKeep) + C(k.psiTheta*th))
		psi[i] = ps
		p[i] = P(C(C(th*k.thetaKeep)-C(k.s2*C(ps))) + C(k.gScale*gi)/denom)
	}
}
