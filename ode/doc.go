// Package ode solves ordinary differential equations x' = f(t, x, θ) with
// explicit Runge-Kutta methods and differentiates their solutions.
//
// Methods: fixed-step Euler, Heun and RK4, and the adaptive Dormand-Prince
// 5(4) pair (Dopri5, the default) with a PI step-size controller and dense
// output at the requested times (Options.SaveAt). Solve returns the states
// at those times with Stats: steps attempted, accepted and rejected, and
// evaluations of f.
//
// The vector field is written with ad operations, so it is differentiable
// in x and θ, and nonsmooth fields (relu, abs, max) follow the Policy of
// the trace that differentiates: for x' = −|x| at x(0) = 0 the sensitivity
// of x(T) is e^(−sT) with s = Policy.Abs0. The solution is an ad primitive:
//
//   - forward mode (ad.JVP, ad.Jacobian(ForwardMode), an ad.Forward):
//     forward sensitivities, the tangent equations of the discrete scheme
//     propagated along the steps taken (memory O(1));
//   - reverse mode (ad.Grad, ad.VJP, an ad.Tape): Options.Adjoint, either
//     DiscreteAdjoint (default), the exact gradient of the discretized
//     solution, one step at a time on a tape, with checkpointed states
//     (at most 64 by default, whatever the number of steps) and the states
//     in between recomputed; or Backsolve, the
//     continuous adjoint integrated backward with x itself, memory O(1),
//     approximate (Stats.Approximate).
//
// Both differentiate the discrete map with the accepted step sizes held
// fixed, so forward sensitivities and the discrete adjoint agree to
// rounding. Objective computes costs ∫ℓ(t, x, θ)dt + g(x(t1), θ), with the
// integral solved on an augmented state so that its gradient is exact for
// the discretization too.
//
// Errors, not NaN: a solve that needs more than MaxSteps steps, whose step
// size underflows or whose state stops being finite returns ErrMaxSteps or
// ErrStepSize.
package ode
