// Package iterdiff differentiates iterative algorithms: fixed-point
// iterations x_{k+1} = T_k(x_k, θ) and optimality conditions F(x, θ) = 0,
// in every differentiation mode, with honest reports of what was computed.
//
// The user writes one step T of an algorithm as a differentiable function
// of ad Vars (a Step), or uses one of the provided algorithms (gradient
// descent, heavy ball, Nesterov, Newton with line search, proximal gradient
// and FISTA, Douglas-Rachford, ADMM, mirror descent on the simplex, SGD
// with a sample sequence and step schedule, the inexact subgradient method
// with an error oracle). FixedPoint runs the iteration on values and
// returns the final state as Vars that are differentiable in the
// parameters θ according to a Mode:
//
//   - Unroll{Checkpoints}: the exact derivative of the K iterations run;
//     reverse mode uses recursive checkpointing by default, keeping O(√K)
//     (or, with Checkpoints: 2, O(log K)) states instead of K.
//   - Piggyback{Delay}: forward derivative recursion carried along with the
//     iterates, with its own convergence test; memory O(1).
//   - Implicit{Solver, Ridge}: the implicit function theorem at the returned
//     point, with a matrix-free linear solve (package linsolve) on an
//     operator built from JVPs or VJPs of T.
//   - OneStep, KStep{K}: differentiate the last one or K steps only.
//   - Detach: values only.
//
// Root differentiates the solution of F(x, θ) = 0 found by any solver by
// the implicit function theorem.
//
// Every mode gives both JVP (ad.Forward, ad.JVP) and VJP (ad.Tape, ad.Grad)
// and its derivative rules are written with ad operations, so solutions
// compose with outer differentiation of any order: a Hessian-vector product
// through an implicit solution works. The solution map is an ad primitive
// (ad.Prim) whose forward evaluation runs the solver on values and whose
// JVP and VJP rules run the chosen mode; linear solves inside the rules go
// through LinearSolve, a primitive whose own derivatives are linear solves.
//
// Honesty: Info reports the forward iterations, residual and convergence,
// the derivative recursion's residual (Piggyback), the linear solve's
// method, iterations, residual and convergence (Implicit, Root), the number
// of stored states (Unroll, Piggyback, KStep), and the kink hits of the
// traces run by the rules. Implicit mode refuses (ErrNotConverged) to
// differentiate an unconverged point unless asked to. Nonsmooth steps use
// the Policy of the trace that differentiates them (e.g.
// ad.Policy.SoftThreshold0 at a prox threshold), so the derivative returned
// is an element of a conservative Jacobian named by that Policy.
//
// Parameters must be passed explicitly in theta: a step that captures a
// traced Var from its surroundings would be differentiated silently wrong,
// so FixedPoint runs the step on constants and returns ErrCapturedVar when
// a traced Var comes out.
package iterdiff
