package train

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/optim"
	"github.com/gradus-ml/gradus/tensor"
)

// Stepper runs training steps of a model: forward pass of a loss,
// backward pass, optional gradient clipping and the optimizer update. It
// is the inner loop of Run, exposed for custom loops and benchmarks.
//
//	st, _ := train.NewStepper(model, opt, train.StepOptions{})
//	for … {
//		loss, err := st.Step(func(c *nn.Ctx) *ad.Var {
//			return ad.CrossEntropy(model.Forward(c, ad.Const(x)), y)
//		})
//	}
type Stepper struct {
	model  nn.Module
	opt    optim.Optimizer
	sched  optim.Schedule
	clip   float64
	params []*tensor.Tensor
	grads  []*tensor.Tensor
	adOpts ad.Options
	stats  ad.Stats
	// arena lends the step's activations and gradients; released after
	// the update, so steady-state steps reuse the same memory.
	arena *tensor.Arena
}

// StepOptions configures a Stepper.
type StepOptions struct {
	// Policy gives the derivative choices at nonsmooth points (ReLU'(0),
	// …).
	Policy ad.Policy
	// Schedule, if non-nil, sets the learning rate of each step from the
	// optimizer's step count.
	Schedule optim.Schedule
	// ClipNorm, when positive, clips the global gradient norm.
	ClipNorm float64
}

// NewStepper returns a Stepper training the parameters of model with opt.
func NewStepper(model nn.Module, opt optim.Optimizer, o StepOptions) (*Stepper, error) {
	if err := o.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	s := &Stepper{model: model, opt: opt, sched: o.Schedule, clip: o.ClipNorm}
	s.params = nn.Tensors(model.Params())
	s.grads = make([]*tensor.Tensor, len(s.params))
	s.stats = ad.Stats{Kinks: map[string]int{}, Calls: map[string]int{}}
	s.arena = tensor.NewArena()
	s.adOpts = ad.Options{Policy: o.Policy, Stats: &s.stats, Arena: s.arena}
	return s, nil
}

// Stats returns the counters of all steps so far: kink hits per
// primitive, applications, flops.
func (s *Stepper) Stats() *ad.Stats { return &s.stats }

// Step runs one training step on the loss that loss computes from a
// training-mode context (whose parameters are on the step's tape, and
// whose RNG is rng, for dropout). It returns the loss value before the
// update, and an error, without updating, if the loss or the gradient norm
// is not finite. The tensors computed during the step (the Vars loss
// returns and anything derived from them) are only valid during the step:
// their memory is reused by the next one.
func (s *Stepper) Step(rng *tensor.RNG, loss func(*nn.Ctx) *ad.Var) (float64, error) {
	tape, err := ad.NewTape(&s.adOpts)
	if err != nil {
		return 0, fmt.Errorf("train: %w", err)
	}
	defer s.arena.Release()
	nc := nn.NewCtx(nn.Train, rng)
	vars := nc.Watch(tape, s.model)
	l := loss(nc)
	lv := l.Value().Item()
	if math.IsNaN(lv) || math.IsInf(lv, 0) {
		return lv, fmt.Errorf("the training loss is %v: the run diverged (try a smaller learning rate, or gradient clipping)", lv)
	}
	gs, err := tape.Backward(l, nil, vars...)
	if err != nil {
		return lv, fmt.Errorf("backward: %w", err)
	}
	for i, g := range gs {
		s.grads[i] = g.Value()
	}
	defer clear(s.grads)
	if s.clip > 0 {
		if _, err := optim.ClipGradNorm(s.grads, s.clip); err != nil {
			return lv, err
		}
	}
	if s.sched != nil {
		s.opt.SetLR(s.sched.LR(s.opt.Steps()))
	}
	if err := s.opt.Step(s.params, s.grads); err != nil {
		return lv, err
	}
	return lv, nil
}
