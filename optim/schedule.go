package optim

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate of each step, counted from 0 (the
// value of Optimizer.Steps before the step). Use it as
//
//	opt.SetLR(sched.LR(opt.Steps()))
//	err := opt.Step(params, grads)
type Schedule interface {
	LR(step int) float64
}

// ScheduleFunc adapts a function to Schedule.
type ScheduleFunc func(step int) float64

// LR returns f(step).
func (f ScheduleFunc) LR(step int) float64 { return f(step) }

func checkBase(name string, lr float64) error {
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("optim: %s: learning rate %v, want a finite value ≥ 0", name, lr)
	}
	return nil
}

// Constant returns the schedule that is lr at every step.
func Constant(lr float64) (Schedule, error) {
	if err := checkBase("Constant", lr); err != nil {
		return nil, err
	}
	return ScheduleFunc(func(int) float64 { return lr }), nil
}

// StepDecay returns lr·gamma^⌊step/every⌋: the rate is multiplied by gamma
// every `every` steps (PyTorch's StepLR).
func StepDecay(lr, gamma float64, every int) (Schedule, error) {
	if err := checkBase("StepDecay", lr); err != nil {
		return nil, err
	}
	if !(gamma >= 0) || math.IsInf(gamma, 0) {
		return nil, fmt.Errorf("optim: StepDecay: gamma %v, want a finite value ≥ 0", gamma)
	}
	if every <= 0 {
		return nil, fmt.Errorf("optim: StepDecay: every = %d, want > 0", every)
	}
	return ScheduleFunc(func(step int) float64 {
		return lr * powi(gamma, max(step, 0)/every)
	}), nil
}

// Cosine returns minLR + (lr−minLR)(1+cos(π·step/steps))/2, which goes
// from lr at step 0 to minLR at step `steps` and stays there afterwards (PyTorch's
// CosineAnnealingLR with T_max = steps, which instead turns back up).
func Cosine(lr, minLR float64, steps int) (Schedule, error) {
	return WarmupCosine(lr, minLR, 0, steps)
}

// WarmupCosine rises linearly from 0 at step 0 to lr at step warmup
// (lr·step/warmup, as nanoGPT), then follows a cosine from lr down to
// minLR at step `steps`, and stays at minLR afterwards.
func WarmupCosine(lr, minLR float64, warmup, steps int) (Schedule, error) {
	name := "WarmupCosine"
	if warmup == 0 {
		name = "Cosine"
	}
	if err := checkBase(name, lr); err != nil {
		return nil, err
	}
	if !(minLR >= 0 && minLR <= lr) {
		return nil, fmt.Errorf("optim: %s: min learning rate %v, want a value in [0, %v]", name, minLR, lr)
	}
	if warmup < 0 {
		return nil, fmt.Errorf("optim: %s: warmup = %d steps, want ≥ 0", name, warmup)
	}
	if steps <= warmup {
		return nil, fmt.Errorf("optim: %s: steps = %d, want more than the %d warmup steps", name, steps, warmup)
	}
	return ScheduleFunc(func(step int) float64 {
		switch {
		case step < warmup:
			return lr * float64(max(step, 0)) / float64(warmup)
		case step >= steps:
			return minLR
		}
		r := float64(step-warmup) / float64(steps-warmup)
		return minLR + 0.5*(1+math.Cos(math.Pi*r))*(lr-minLR)
	}), nil
}

// InverseDecay returns lr/(1+step)^power, the decaypower option of
// Castera's INNA (power in [0, 1]; 0 is constant).
func InverseDecay(lr, power float64) (Schedule, error) {
	if err := checkBase("InverseDecay", lr); err != nil {
		return nil, err
	}
	if !(power >= 0) || math.IsInf(power, 0) {
		return nil, fmt.Errorf("optim: InverseDecay: power %v, want a finite value ≥ 0", power)
	}
	return ScheduleFunc(func(step int) float64 {
		return lr / math.Pow(1+float64(max(step, 0)), power)
	}), nil
}
