package optim

import (
	"math"

	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/tensor"
)

// AdamConfig holds the hyperparameters of Adam. Zero fields take PyTorch's
// defaults (lr 1e-3, β₁ 0.9, β₂ 0.999, ε 1e-8, no weight decay); use
// [Zero] for an explicit zero β₁ or ε.
type AdamConfig struct {
	LR          float64   `json:"lr"`
	Beta1       float64   `json:"beta1"`        // in [0, 1)
	Beta2       float64   `json:"beta2"`        // in [0, 1)
	Eps         float64   `json:"eps"`          // ≥ 0, added after the square root
	L2          float64   `json:"l2"`           // ≥ 0, coupled: g ← g + L2·θ (PyTorch Adam's weight_decay)
	WeightDecay float64   `json:"weight_decay"` // ≥ 0, decoupled: θ ← θ(1−lr·wd) (AdamW)
	Maximize    bool      `json:"maximize"`     // ascend: use −g in place of g
	State       Precision `json:"state"`
}

// AdamWConfig holds the hyperparameters of AdamW. Zero fields take
// PyTorch's defaults (lr 1e-3, β₁ 0.9, β₂ 0.999, ε 1e-8, weight decay
// 0.01); use [Zero] for an explicit zero.
type AdamWConfig struct {
	LR          float64   `json:"lr"`
	Beta1       float64   `json:"beta1"`        // in [0, 1)
	Beta2       float64   `json:"beta2"`        // in [0, 1)
	Eps         float64   `json:"eps"`          // ≥ 0, added after the square root
	WeightDecay float64   `json:"weight_decay"` // ≥ 0, decoupled: θ ← θ(1−lr·wd)
	Maximize    bool      `json:"maximize"`     // ascend: use −g in place of g
	State       Precision `json:"state"`
}

func (c AdamConfig) withDefaults() AdamConfig {
	c.LR = orDefault(c.LR, 1e-3)
	c.Beta1 = orDefault(c.Beta1, 0.9)
	c.Beta2 = orDefault(c.Beta2, 0.999)
	c.Eps = orDefault(c.Eps, 1e-8)
	c.L2 = orDefault(c.L2, 0)
	c.WeightDecay = orDefault(c.WeightDecay, 0)
	return c
}

func (c AdamWConfig) withDefaults() AdamWConfig {
	a := AdamConfig{c.LR, c.Beta1, c.Beta2, c.Eps, 0, c.WeightDecay, c.Maximize, c.State}.withDefaults()
	a.WeightDecay = orDefault(c.WeightDecay, 0.01)
	return AdamWConfig{a.LR, a.Beta1, a.Beta2, a.Eps, a.WeightDecay, a.Maximize, a.State}
}

func (c AdamConfig) validate(k string) error {
	switch {
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return fieldError(k, "Beta1", c.Beta1, "a value in [0, 1)")
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fieldError(k, "Beta2", c.Beta2, "a value in [0, 1)")
	case !(c.Eps >= 0) || !finite(c.Eps):
		return fieldError(k, "Eps", c.Eps, "a finite value ≥ 0")
	case !(c.L2 >= 0) || !finite(c.L2):
		return fieldError(k, "L2", c.L2, "a finite value ≥ 0")
	case !(c.WeightDecay >= 0) || !finite(c.WeightDecay):
		return fieldError(k, "WeightDecay", c.WeightDecay, "a finite value ≥ 0")
	case c.State > State64:
		return fieldError(k, "State", float64(c.State), "State32 or State64")
	}
	return checkLR(k, c.LR)
}

func (c AdamWConfig) validate() error {
	return AdamConfig{c.LR, c.Beta1, c.Beta2, c.Eps, 0, c.WeightDecay, c.Maximize, c.State}.validate("AdamW")
}

// adam is the update shared by Adam and AdamW (PyTorch semantics):
//
//	g ← g + L2·θ
//	θ ← θ(1−lr·wd)
//	m ← β₁m + (1−β₁)g
//	v ← β₂v + (1−β₂)g²
//	θ ← θ − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)
type adam struct {
	core
	cfg AdamConfig
	k64 adamCoef[float64]
	k32 adamCoef[float32]
}

func (o *adam) init(kind string, cfg AdamConfig) {
	o.core = core{kind: kind, lr: cfg.LR, prec: cfg.State, names: []string{"exp_avg", "exp_avg_sq"}}
	o.cfg = cfg
	o.fn = o.update
}

type adamCoef[C float] struct {
	gsign, l2, decay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, sqrtBC2, eps, negStep C
}

func newAdamCoef[C float](c AdamConfig, lr float64, t int) adamCoef[C] {
	bc1 := 1 - powi(c.Beta1, t)
	bc2 := 1 - powi(c.Beta2, t)
	return adamCoef[C]{
		gsign:         C(gsign(c.Maximize)),
		l2:            C(c.L2),
		decay:         C(1 - float64(lr*c.WeightDecay)),
		beta1:         C(c.Beta1),
		oneMinusBeta1: C(1 - c.Beta1),
		beta2:         C(c.Beta2),
		oneMinusBeta2: C(1 - c.Beta2),
		sqrtBC2:       C(math.Sqrt(bc2)),
		eps:           C(c.Eps),
		negStep:       C(-lr / bc1),
	}
}

func (o *adam) step(params, grads []*tensor.Tensor) error {
	if err := checkLR(o.kind, o.lr); err != nil {
		return err
	}
	if _, err := o.prepare(params, grads); err != nil {
		return err
	}
	o.t++
	o.k64 = newAdamCoef[float64](o.cfg, o.lr, o.t)
	o.k32 = newAdamCoef[float32](o.cfg, o.lr, o.t)
	o.apply(params, grads)
	return nil
}

// update applies the step to one chunk.
func (o *adam) update(ch chunk) {
	p, g, b := o.params[ch.i], o.grads[ch.i], o.bufs[ch.i]
	switch o.mode(p) {
	case p64s64:
		adamLoop(sub64(p, ch), sub64(g, ch), sub64(b[0], ch), sub64(b[1], ch), o.k64)
	case p64s32:
		adamLoop(sub64(p, ch), sub64(g, ch), sub32(b[0], ch), sub32(b[1], ch), o.k64)
	case p32s64:
		adamLoop(sub32(p, ch), sub32(g, ch), sub64(b[0], ch), sub64(b[1], ch), o.k64)
	case p32s32:
		k := o.k32.kernel()
		kernels.Adam32(sub32(p, ch), sub32(g, ch), sub32(b[0], ch), sub32(b[1], ch), &k)
	}
	roundChunk(p, ch)
}

// kernel returns the float32 coefficients for kernels.Adam32, which runs
// adamLoop (all float32) in SIMD with the same roundings.
func (k adamCoef[C]) kernel() kernels.AdamCoef32 {
	return kernels.AdamCoef32{
		GSign: float32(k.gsign), L2: float32(k.l2), Decay: float32(k.decay),
		Beta1: float32(k.beta1), OneMinusBeta1: float32(k.oneMinusBeta1),
		Beta2: float32(k.beta2), OneMinusBeta2: float32(k.oneMinusBeta2),
		SqrtBC2: float32(k.sqrtBC2), Eps: float32(k.eps), NegStep: float32(k.negStep),
	}
}

func adamLoop[P, S, C float](p, g []P, m, v []S, k adamCoef[C]) {
	g = g[:len(p)]
	m = m[:len(p)]
	v = v[:len(p)]
	for i := range p {
		th := C(p[i])
		gi := C(g[i]) * k.gsign
		if k.l2 != 0 {
			gi += C(k.l2 * th)
		}
		th = C(th * k.decay)
		ms := S(C(C(m[i])*k.beta1) + C(k.oneMinusBeta1*gi))
		vs := S(C(C(v[i])*k.beta2) + C(C(k.oneMinusBeta2*gi)*gi))
		m[i], v[i] = ms, vs
		denom := C(sqrt(C(vs))/k.sqrtBC2) + k.eps
		p[i] = P(th + C(k.negStep*C(ms))/denom)
	}
}

// Adam is the method of Kingma and Ba with PyTorch's bias correction and ε
// placement; L2 adds a coupled L2 term to the gradient and WeightDecay
// applies decoupled decay (which makes it AdamW).
type Adam struct{ adam }

// NewAdam returns an Adam optimizer.
func NewAdam(cfg AdamConfig) (*Adam, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate("Adam"); err != nil {
		return nil, err
	}
	o := new(Adam)
	o.init("Adam", cfg)
	return o, nil
}

// Config returns the hyperparameters, with LR the current learning rate.
func (o *Adam) Config() AdamConfig { c := o.cfg; c.LR = o.lr; return c }

// Step applies one Adam update.
func (o *Adam) Step(params, grads []*tensor.Tensor) error { return o.step(params, grads) }

// State returns a copy of the optimizer state.
func (o *Adam) State() *State { return o.snapshot(o.Config()) }

// Load replaces the state and hyperparameters by s.
func (o *Adam) Load(s *State) error {
	var cfg AdamConfig
	if err := o.decode(s, &cfg); err != nil {
		return err
	}
	if err := cfg.validate(o.kind); err != nil {
		return err
	}
	return o.adopt(s, cfg)
}

func (o *adam) adopt(s *State, cfg AdamConfig) error {
	if err := o.install(s, o.names, cfg.LR, cfg.State); err != nil {
		return err
	}
	o.cfg = cfg
	return nil
}

// AdamW is Adam with decoupled weight decay (Loshchilov and Hutter),
// exactly as PyTorch's torch.optim.AdamW:
//
//	θ ← θ(1−lr·wd)
//	m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
//	θ ← θ − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)
type AdamW struct{ adam }

// NewAdamW returns an AdamW optimizer.
func NewAdamW(cfg AdamWConfig) (*AdamW, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := new(AdamW)
	o.init("AdamW", AdamConfig{cfg.LR, cfg.Beta1, cfg.Beta2, cfg.Eps, 0, cfg.WeightDecay, cfg.Maximize, cfg.State})
	return o, nil
}

// Config returns the hyperparameters, with LR the current learning rate.
func (o *AdamW) Config() AdamWConfig {
	c := o.cfg
	return AdamWConfig{o.lr, c.Beta1, c.Beta2, c.Eps, c.WeightDecay, c.Maximize, c.State}
}

// Step applies one AdamW update.
func (o *AdamW) Step(params, grads []*tensor.Tensor) error { return o.step(params, grads) }

// State returns a copy of the optimizer state.
func (o *AdamW) State() *State { return o.snapshot(o.Config()) }

// Load replaces the state and hyperparameters by s.
func (o *AdamW) Load(s *State) error {
	var cfg AdamWConfig
	if err := o.decode(s, &cfg); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	return o.adopt(s, AdamConfig{cfg.LR, cfg.Beta1, cfg.Beta2, cfg.Eps, 0, cfg.WeightDecay, cfg.Maximize, cfg.State})
}
