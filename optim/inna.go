package optim

import (
	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/tensor"
)

// INNAConfig holds the hyperparameters of INNA. Zero fields take the
// defaults of the INNAprop repository's inna.py (lr 0.01, α 0.1, β 0.1, no
// weight decay); use [Zero] for an explicit zero α. Castera's original
// defaults are lr 0.1, α 0.5, β 0.1, and its decaypower option is the
// schedule [InverseDecay].
type INNAConfig struct {
	LR          float64   `json:"lr"`           // γ ≥ 0
	Alpha       float64   `json:"alpha"`        // α ≥ 0, friction
	Beta        float64   `json:"beta"`         // β > 0, Hessian-driven damping
	WeightDecay float64   `json:"weight_decay"` // λ ≥ 0, decoupled: θ ← θ(1−γλ) first
	Maximize    bool      `json:"maximize"`     // ascend: use −g in place of g
	State       Precision `json:"state"`        // dtype of ψ
}

func (c INNAConfig) withDefaults() INNAConfig {
	c.LR = orDefault(c.LR, 0.01)
	c.Alpha = orDefault(c.Alpha, 0.1)
	c.Beta = orDefault(c.Beta, 0.1)
	c.WeightDecay = orDefault(c.WeightDecay, 0)
	return c
}

func (c INNAConfig) validate() error {
	const k = "INNA"
	switch {
	case !(c.Alpha >= 0) || !finite(c.Alpha):
		return fieldError(k, "Alpha", c.Alpha, "a finite value ≥ 0")
	case !(c.Beta > 0) || !finite(c.Beta):
		return fieldError(k, "Beta", c.Beta, "a finite value > 0")
	case !(c.WeightDecay >= 0) || !finite(c.WeightDecay):
		return fieldError(k, "WeightDecay", c.WeightDecay, "a finite value ≥ 0")
	case c.State > State64:
		return fieldError(k, "State", float64(c.State), "State32 or State64")
	}
	return checkLR(k, c.LR)
}

// INNA is the inertial Newton algorithm of Castera, Bolte, Févotte and
// Pauwels (2021), an explicit Euler discretisation of the dynamics
// θ̈ + αθ̇ + β∇²f(θ)θ̇ + ∇f(θ) = 0 written with an auxiliary variable ψ, as
// in inna.py of the INNAprop repository. One step is
//
//	θ ← θ(1−γλ)
//	phase = (α−1/β)θ + ψ/β          (old ψ)
//	ψ ← ψ − γ·phase
//	θ ← θ − γ(phase + βg)
//
// with ψ = (1−αβ)θ set from the parameters at the first step.
type INNA struct {
	core
	cfg INNAConfig
	k64 innaCoef[float64]
	k32 innaCoef[float32]
}

// NewINNA returns an INNA optimizer.
func NewINNA(cfg INNAConfig) (*INNA, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := &INNA{core: core{kind: "INNA", lr: cfg.LR, prec: cfg.State, names: []string{"psi"}}, cfg: cfg}
	o.fn = o.update
	return o, nil
}

// Config returns the hyperparameters, with LR the current learning rate.
func (o *INNA) Config() INNAConfig { c := o.cfg; c.LR = o.lr; return c }

// State returns a copy of the optimizer state.
func (o *INNA) State() *State { return o.snapshot(o.Config()) }

// Load replaces the state and hyperparameters by s.
func (o *INNA) Load(s *State) error {
	var cfg INNAConfig
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

type innaCoef[C float] struct{ gsign, decay, thetaCoef, psiCoef, negLR, beta C }

func newInnaCoef[C float](c INNAConfig, lr float64) innaCoef[C] {
	return innaCoef[C]{
		gsign:     C(gsign(c.Maximize)),
		decay:     C(1 - float64(lr*c.WeightDecay)),
		thetaCoef: C(c.Alpha - 1/c.Beta),
		psiCoef:   C(1 / c.Beta),
		negLR:     C(-lr),
		beta:      C(c.Beta),
	}
}

// Step applies one INNA update.
func (o *INNA) Step(params, grads []*tensor.Tensor) error {
	if err := checkLR(o.kind, o.lr); err != nil {
		return err
	}
	fresh, err := o.prepare(params, grads)
	if err != nil {
		return err
	}
	if fresh {
		ab := 1 - float64(o.cfg.Alpha*o.cfg.Beta)
		for i, p := range params {
			psi := o.bufs[i][0]
			for j := range p.Size() {
				psi.SetFlat(j, ab*p.AtFlat(j))
			}
		}
	}
	o.t++
	o.k64 = newInnaCoef[float64](o.cfg, o.lr)
	o.k32 = newInnaCoef[float32](o.cfg, o.lr)
	o.apply(params, grads)
	return nil
}

// update applies the step to one chunk.
func (o *INNA) update(ch chunk) {
	p, g, b := o.params[ch.i], o.grads[ch.i], o.bufs[ch.i]
	switch o.mode(p) {
	case p64s64:
		innaLoop(sub64(p, ch), sub64(g, ch), sub64(b[0], ch), o.k64)
	case p64s32:
		innaLoop(sub64(p, ch), sub64(g, ch), sub32(b[0], ch), o.k64)
	case p32s64:
		innaLoop(sub32(p, ch), sub32(g, ch), sub64(b[0], ch), o.k64)
	case p32s32:
		k := o.k32.kernel()
		kernels.INNA32(sub32(p, ch), sub32(g, ch), sub32(b[0], ch), &k)
	}
	roundChunk(p, ch)
}

// kernel returns the float32 coefficients for kernels.INNA32, which runs
// innaLoop (all float32) in SIMD with the same roundings.
func (k innaCoef[C]) kernel() kernels.INNACoef32 {
	return kernels.INNACoef32{
		GSign: float32(k.gsign), Decay: float32(k.decay), ThetaCoef: float32(k.thetaCoef),
		PsiCoef: float32(k.psiCoef), NegLR: float32(k.negLR), Beta: float32(k.beta),
	}
}

func innaLoop[P, S, C float](p, g []P, psi []S, k innaCoef[C]) {
	g = g[:len(p)]
	psi = psi[:len(p)]
	for i := range p {
		th := C(C(p[i]) * k.decay)
		ps := C(psi[i])
		phase := C(k.thetaCoef*th) + C(k.psiCoef*ps)
		psi[i] = S(ps + C(k.negLR*phase))
		p[i] = P(th + C(k.negLR*(phase+C(k.beta*C(C(g[i])*k.gsign)))))
	}
}
