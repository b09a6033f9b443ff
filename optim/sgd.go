package optim

import (
	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/tensor"
)

// SGDConfig holds the hyperparameters of SGD. Zero fields mean: lr 1e-3
// (PyTorch's default), no momentum, no dampening, no weight decay.
type SGDConfig struct {
	LR          float64   `json:"lr"`
	Momentum    float64   `json:"momentum"`     // μ ≥ 0
	Dampening   float64   `json:"dampening"`    // in [0, 1]
	Nesterov    bool      `json:"nesterov"`     // needs μ > 0 and no dampening
	WeightDecay float64   `json:"weight_decay"` // ≥ 0, decoupled: θ ← θ(1−lr·wd)
	L2          float64   `json:"l2"`           // ≥ 0, coupled: g ← g + L2·θ (PyTorch SGD's weight_decay)
	Maximize    bool      `json:"maximize"`     // ascend: use −g in place of g
	State       Precision `json:"state"`        // dtype of the momentum buffer
}

func (c SGDConfig) withDefaults() SGDConfig {
	c.LR = orDefault(c.LR, 1e-3)
	c.Momentum = orDefault(c.Momentum, 0)
	c.Dampening = orDefault(c.Dampening, 0)
	c.WeightDecay = orDefault(c.WeightDecay, 0)
	c.L2 = orDefault(c.L2, 0)
	return c
}

func (c SGDConfig) validate() error {
	const k = "SGD"
	switch {
	case !(c.Momentum >= 0) || !finite(c.Momentum):
		return fieldError(k, "Momentum", c.Momentum, "a finite value ≥ 0")
	case !(c.Dampening >= 0 && c.Dampening <= 1):
		return fieldError(k, "Dampening", c.Dampening, "a value in [0, 1]")
	case c.Nesterov && c.Momentum == 0:
		return fieldError(k, "Momentum", c.Momentum, "a value > 0 with Nesterov")
	case c.Nesterov && c.Dampening != 0:
		return fieldError(k, "Dampening", c.Dampening, "0 with Nesterov")
	case !(c.WeightDecay >= 0) || !finite(c.WeightDecay):
		return fieldError(k, "WeightDecay", c.WeightDecay, "a finite value ≥ 0")
	case !(c.L2 >= 0) || !finite(c.L2):
		return fieldError(k, "L2", c.L2, "a finite value ≥ 0")
	case c.State > State64:
		return fieldError(k, "State", float64(c.State), "State32 or State64")
	}
	return checkLR(k, c.LR)
}

func (c SGDConfig) names() []string {
	if c.Momentum == 0 {
		return nil
	}
	return []string{"momentum_buffer"}
}

// SGD is stochastic gradient descent with PyTorch's momentum semantics:
//
//	d ← g + L2·θ
//	θ ← θ(1−lr·wd)
//	b ← d at the first step, then μb + (1−dampening)d
//	d ← d + μb (Nesterov) or d ← b
//	θ ← θ − lr·d
type SGD struct {
	core
	cfg SGDConfig
	k64 sgdCoef[float64]
	k32 sgdCoef[float32]
}

// NewSGD returns an SGD optimizer.
func NewSGD(cfg SGDConfig) (*SGD, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := &SGD{core: core{kind: "SGD", lr: cfg.LR, prec: cfg.State, names: cfg.names()}, cfg: cfg}
	o.fn = o.update
	return o, nil
}

// Config returns the hyperparameters, with LR the current learning rate.
func (o *SGD) Config() SGDConfig { c := o.cfg; c.LR = o.lr; return c }

// State returns a copy of the optimizer state.
func (o *SGD) State() *State { return o.snapshot(o.Config()) }

// Load replaces the state and hyperparameters by s.
func (o *SGD) Load(s *State) error {
	var cfg SGDConfig
	if err := o.decode(s, &cfg); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if err := o.install(s, cfg.names(), cfg.LR, cfg.State); err != nil {
		return err
	}
	o.cfg = cfg
	return nil
}

type sgdCoef[C float] struct {
	gsign, l2, decay, negLR, mu, oneMinusDamp C
	first, nesterov                           bool
}

func newSGDCoef[C float](c SGDConfig, lr float64, first bool) sgdCoef[C] {
	return sgdCoef[C]{
		gsign: C(gsign(c.Maximize)),
		l2:    C(c.L2), decay: C(1 - float64(lr*c.WeightDecay)), negLR: C(-lr),
		mu: C(c.Momentum), oneMinusDamp: C(1 - c.Dampening),
		first: first, nesterov: c.Nesterov,
	}
}

// Step applies one SGD update.
func (o *SGD) Step(params, grads []*tensor.Tensor) error {
	if err := checkLR(o.kind, o.lr); err != nil {
		return err
	}
	fresh, err := o.prepare(params, grads)
	if err != nil {
		return err
	}
	o.t++
	o.k64 = newSGDCoef[float64](o.cfg, o.lr, fresh)
	o.k32 = newSGDCoef[float32](o.cfg, o.lr, fresh)
	o.apply(params, grads)
	return nil
}

// update applies the step to one chunk.
func (o *SGD) update(ch chunk) {
	p, g := o.params[ch.i], o.grads[ch.i]
	if len(o.names) == 0 {
		if p.DType() == tensor.Float64 {
			sgdLoop(sub64(p, ch), sub64(g, ch), o.k64)
		} else {
			k := o.k32.kernel()
			kernels.SGD32(sub32(p, ch), sub32(g, ch), &k)
		}
		roundChunk(p, ch)
		return
	}
	b := o.bufs[ch.i][0]
	switch o.mode(p) {
	case p64s64:
		sgdMomentumLoop(sub64(p, ch), sub64(g, ch), sub64(b, ch), o.k64)
	case p64s32:
		sgdMomentumLoop(sub64(p, ch), sub64(g, ch), sub32(b, ch), o.k64)
	case p32s64:
		sgdMomentumLoop(sub32(p, ch), sub32(g, ch), sub64(b, ch), o.k64)
	case p32s32:
		k := o.k32.kernel()
		kernels.SGDMomentum32(sub32(p, ch), sub32(g, ch), sub32(b, ch), &k)
	}
	roundChunk(p, ch)
}

// kernel returns the float32 coefficients for kernels.SGD32 and
// kernels.SGDMomentum32, which run sgdLoop and sgdMomentumLoop (all
// float32) in SIMD with the same roundings.
func (k sgdCoef[C]) kernel() kernels.SGDCoef32 {
	return kernels.SGDCoef32{
		GSign: float32(k.gsign), L2: float32(k.l2), Decay: float32(k.decay), NegLR: float32(k.negLR),
		Mu: float32(k.mu), OneMinusDamp: float32(k.oneMinusDamp), First: k.first, Nesterov: k.nesterov,
	}
}

func sgdLoop[P, C float](p, g []P, k sgdCoef[C]) {
	g = g[:len(p)]
	for i := range p {
		th := C(p[i])
		d := C(g[i]) * k.gsign
		if k.l2 != 0 {
			d += C(k.l2 * th)
		}
		p[i] = P(C(th*k.decay) + C(k.negLR*d))
	}
}

func sgdMomentumLoop[P, S, C float](p, g []P, buf []S, k sgdCoef[C]) {
	g = g[:len(p)]
	buf = buf[:len(p)]
	for i := range p {
		th := C(p[i])
		d := C(g[i]) * k.gsign
		if k.l2 != 0 {
			d += C(k.l2 * th)
		}
		b := d
		if !k.first {
			b = C(k.mu*C(buf[i])) + C(k.oneMinusDamp*d)
		}
		bs := S(b)
		buf[i] = bs
		if k.nesterov {
			d += C(k.mu * C(bs))
		} else {
			d = C(bs)
		}
		p[i] = P(C(th*k.decay) + C(k.negLR*d))
	}
}
