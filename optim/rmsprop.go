package optim

import (
	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/tensor"
)

// RMSpropConfig holds the hyperparameters of RMSprop. Zero fields take
// PyTorch's defaults (lr 0.01, α 0.99, ε 1e-8, no momentum, not centered,
// no weight decay); use [Zero] for an explicit zero α or ε.
type RMSpropConfig struct {
	LR          float64   `json:"lr"`
	Alpha       float64   `json:"alpha"`        // in [0, 1), decay of the squared-gradient average
	Eps         float64   `json:"eps"`          // ≥ 0, added after the square root
	Momentum    float64   `json:"momentum"`     // ≥ 0
	Centered    bool      `json:"centered"`     // divide by the estimated variance instead of the second moment
	WeightDecay float64   `json:"weight_decay"` // ≥ 0, decoupled: θ ← θ(1−lr·wd)
	L2          float64   `json:"l2"`           // ≥ 0, coupled: g ← g + L2·θ (PyTorch RMSprop's weight_decay)
	Maximize    bool      `json:"maximize"`     // ascend: use −g in place of g
	State       Precision `json:"state"`
}

func (c RMSpropConfig) withDefaults() RMSpropConfig {
	c.LR = orDefault(c.LR, 1e-2)
	c.Alpha = orDefault(c.Alpha, 0.99)
	c.Eps = orDefault(c.Eps, 1e-8)
	c.Momentum = orDefault(c.Momentum, 0)
	c.WeightDecay = orDefault(c.WeightDecay, 0)
	c.L2 = orDefault(c.L2, 0)
	return c
}

func (c RMSpropConfig) validate() error {
	const k = "RMSprop"
	switch {
	case !(c.Alpha >= 0 && c.Alpha < 1):
		return fieldError(k, "Alpha", c.Alpha, "a value in [0, 1)")
	case !(c.Eps >= 0) || !finite(c.Eps):
		return fieldError(k, "Eps", c.Eps, "a finite value ≥ 0")
	case !(c.Momentum >= 0) || !finite(c.Momentum):
		return fieldError(k, "Momentum", c.Momentum, "a finite value ≥ 0")
	case !(c.WeightDecay >= 0) || !finite(c.WeightDecay):
		return fieldError(k, "WeightDecay", c.WeightDecay, "a finite value ≥ 0")
	case !(c.L2 >= 0) || !finite(c.L2):
		return fieldError(k, "L2", c.L2, "a finite value ≥ 0")
	case c.State > State64:
		return fieldError(k, "State", float64(c.State), "State32 or State64")
	}
	return checkLR(k, c.LR)
}

// names lists the buffers: square_avg, then momentum_buffer and grad_avg
// when used.
func (c RMSpropConfig) names() []string {
	n := []string{"square_avg"}
	if c.Momentum != 0 {
		n = append(n, "momentum_buffer")
	}
	if c.Centered {
		n = append(n, "grad_avg")
	}
	return n
}

// RMSprop is Hinton's RMSprop with PyTorch's semantics (no bias
// correction, ε outside the square root):
//
//	g ← g + L2·θ;  θ ← θ(1−lr·wd)
//	v ← αv + (1−α)g²
//	centered: a ← αa + (1−α)g,  avg = √(v − a²) + ε;  else avg = √v + ε
//	momentum: b ← μb + g/avg,  θ ← θ − lr·b;  else θ ← θ − lr·g/avg
type RMSprop struct {
	core
	cfg    RMSpropConfig
	k64    rmspropCoef[float64]
	k32    rmspropCoef[float32]
	im, ia int // indices of the momentum and gradient-average buffers, or −1
}

// NewRMSprop returns an RMSprop optimizer.
func NewRMSprop(cfg RMSpropConfig) (*RMSprop, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := &RMSprop{core: core{kind: "RMSprop", lr: cfg.LR, prec: cfg.State, names: cfg.names()}, cfg: cfg}
	o.fn = o.update
	return o, nil
}

// Config returns the hyperparameters, with LR the current learning rate.
func (o *RMSprop) Config() RMSpropConfig { c := o.cfg; c.LR = o.lr; return c }

// State returns a copy of the optimizer state.
func (o *RMSprop) State() *State { return o.snapshot(o.Config()) }

// Load replaces the state and hyperparameters by s.
func (o *RMSprop) Load(s *State) error {
	var cfg RMSpropConfig
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

type rmspropCoef[C float] struct {
	gsign, l2, decay, alpha, oneMinusAlpha, eps, mu, negLR C
	momentum, centered                                     bool
}

func newRMSpropCoef[C float](c RMSpropConfig, lr float64) rmspropCoef[C] {
	return rmspropCoef[C]{
		gsign: C(gsign(c.Maximize)),
		l2:    C(c.L2), decay: C(1 - float64(lr*c.WeightDecay)), alpha: C(c.Alpha), oneMinusAlpha: C(1 - c.Alpha),
		eps: C(c.Eps), mu: C(c.Momentum), negLR: C(-lr),
		momentum: c.Momentum != 0, centered: c.Centered,
	}
}

// Step applies one RMSprop update.
func (o *RMSprop) Step(params, grads []*tensor.Tensor) error {
	if err := checkLR(o.kind, o.lr); err != nil {
		return err
	}
	if _, err := o.prepare(params, grads); err != nil {
		return err
	}
	o.t++
	o.k64 = newRMSpropCoef[float64](o.cfg, o.lr)
	o.k32 = newRMSpropCoef[float32](o.cfg, o.lr)
	o.im, o.ia = -1, -1
	for k, n := range o.names {
		switch n {
		case "momentum_buffer":
			o.im = k
		case "grad_avg":
			o.ia = k
		}
	}
	o.apply(params, grads)
	return nil
}

// update applies the step to one chunk.
func (o *RMSprop) update(ch chunk) {
	p, g, b := o.params[ch.i], o.grads[ch.i], o.bufs[ch.i]
	switch o.mode(p) {
	case p64s64:
		rmspropLoop(sub64(p, ch), sub64(g, ch), sub64(b[0], ch), opt64(b, o.im, ch), opt64(b, o.ia, ch), o.k64)
	case p64s32:
		rmspropLoop(sub64(p, ch), sub64(g, ch), sub32(b[0], ch), opt32(b, o.im, ch), opt32(b, o.ia, ch), o.k64)
	case p32s64:
		rmspropLoop(sub32(p, ch), sub32(g, ch), sub64(b[0], ch), opt64(b, o.im, ch), opt64(b, o.ia, ch), o.k64)
	case p32s32:
		k := o.k32.kernel()
		kernels.RMSprop32(sub32(p, ch), sub32(g, ch), sub32(b[0], ch), opt32(b, o.im, ch), opt32(b, o.ia, ch), &k)
	}
	roundChunk(p, ch)
}

// kernel returns the float32 coefficients for kernels.RMSprop32, which
// runs rmspropLoop (all float32) in SIMD with the same roundings.
func (k rmspropCoef[C]) kernel() kernels.RMSpropCoef32 {
	return kernels.RMSpropCoef32{
		GSign: float32(k.gsign), L2: float32(k.l2), Decay: float32(k.decay), Alpha: float32(k.alpha),
		OneMinusAlpha: float32(k.oneMinusAlpha), Eps: float32(k.eps), Mu: float32(k.mu), NegLR: float32(k.negLR),
		Momentum: k.momentum, Centered: k.centered,
	}
}

// opt64 and opt32 return the chunk of optional buffer k, or nil if k < 0.
func opt64(b []*tensor.Tensor, k int, ch chunk) []float64 {
	if k < 0 {
		return nil
	}
	return sub64(b[k], ch)
}

func opt32(b []*tensor.Tensor, k int, ch chunk) []float32 {
	if k < 0 {
		return nil
	}
	return sub32(b[k], ch)
}

func rmspropLoop[P, S, C float](p, g []P, v, mom, avg []S, k rmspropCoef[C]) {
	g = g[:len(p)]
	v = v[:len(p)]
	for i := range p {
		th := C(p[i])
		gi := C(g[i]) * k.gsign
		if k.l2 != 0 {
			gi += C(k.l2 * th)
		}
		th = C(th * k.decay)
		vs := S(C(C(v[i])*k.alpha) + C(C(k.oneMinusAlpha*gi)*gi))
		v[i] = vs
		var den C
		if k.centered {
			as := S(C(C(avg[i])*k.alpha) + C(k.oneMinusAlpha*gi))
			avg[i] = as
			den = sqrt(C(vs)-C(C(as)*C(as))) + k.eps
		} else {
			den = sqrt(C(vs)) + k.eps
		}
		if k.momentum {
			bs := S(C(k.mu*C(mom[i])) + gi/den)
			mom[i] = bs
			p[i] = P(th + C(k.negLR*C(bs)))
		} else {
			p[i] = P(th + C(k.negLR*(gi/den)))
		}
	}
}
