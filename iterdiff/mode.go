package iterdiff

import (
	"fmt"

	"github.com/gradus-ml/gradus/linsolve"
)

// Mode says how the derivative of an iterative algorithm is computed. Every
// mode gives both forward-mode (JVP) and reverse-mode (VJP) derivatives,
// and its derivative rules are themselves differentiable, so a solution can
// sit inside a larger program that is differentiated to any order.
//
// The modes are Unroll, Piggyback, Implicit, OneStep, KStep and Detach. A
// nil Mode in Options means Implicit{}.
type Mode interface {
	mode() string
}

// Unroll differentiates through all the iterations that were run, exactly
// as if the loop had been written out: the derivative of x_K with respect
// to x₀ and θ for the number K of iterations the forward run took.
//
// Forward mode replays the iterations with tangents (memory O(1)). Reverse
// mode replays them on tapes with recursive checkpointing, so that memory
// is bounded by default: with Checkpoints = c ≥ 2 the replay stores c
// evenly spaced states, then recurses into each segment in reverse order
// until segments have at most c steps, which are recorded on a tape. The
// peak number of stored states is about c·⌈log_c K⌉ + c at a cost of about
// ⌈log_c K⌉ extra forward passes: c = 2 gives O(log K) states, the default
// c = ⌈√K⌉ (CheckpointSqrt, the zero value) about 2√K states and one extra
// pass. CheckpointNone records all K states on one tape (no extra pass).
// The gradient is the same in every case up to rounding (the same
// operations in the same order, only the summation of θ's cotangent is
// grouped by segment). Info.StoredStates reports the peak count.
type Unroll struct {
	Checkpoints int
}

// Values of Unroll.Checkpoints.
const (
	// CheckpointSqrt picks c = ⌈√K⌉ (the default).
	CheckpointSqrt = 0
	// CheckpointNone records every state (memory O(K)).
	CheckpointNone = -1
)

// Piggyback propagates derivatives forward together with the iterates:
// J_{k+1} = ∂ₓT(x_k, θ)·J_k + ∂_θT(x_k, θ) (with J as a directional
// derivative, so one pass per tangent direction), started at iteration
// Delay (J_Delay = 0; Delay 0 also carries the tangent of x₀). Memory is
// O(1) in the number of iterations.
//
// Derivatives converge later than iterates (and, for momentum methods,
// may not converge at all): after the iterates have met the tolerance at
// iteration K, the derivative recursion continues at the frozen point x_K
// until ‖J_{k+1} − J_k‖ ≤ Tol or MaxIter iterations in all. Info reports
// DerivIterations, DerivResidual and DerivConverged.
//
// Reverse mode, when the iterates converged, runs the transposed recursion
// at the final point, w_{j+1} = ∂ₓT(x_K, θ)ᵀ·w_j, θ̄ = Σ_j ∂_θT(x_K, θ)ᵀ·w_j
// (memory O(1), same stopping test), whose limit is the same as the
// forward recursion's: the implicit derivative; the cotangent of x₀ is then
// zero, and forward and reverse agree up to the derivative tolerance. When
// the iterates did not converge (a finite horizon: SGD, Tol < 0), reverse
// mode is the exact transpose of the forward recursion, computed by
// replaying the iterations from Delay with √K checkpoints
// (Info.DerivReplayed).
type Piggyback struct {
	Delay int
}

// Implicit differentiates the fixed-point condition x = T(x, θ) at the
// returned point by the implicit function theorem:
// ẋ = (I − ∂ₓT)⁻¹ ∂_θT·θ̇ and θ̄ = ∂_θTᵀ (I − ∂ₓT)⁻ᵀ x̄. The linear system is
// solved matrix-free with linsolve on an operator made of JVPs (or VJPs)
// of T; the Jacobian is never formed unless Solver is a dense method. The
// derivative with respect to x₀ is zero.
//
// Solver defaults to GMRES (use CG or MINRES when I − ∂ₓT is symmetric,
// e.g. gradient descent on a smooth objective). Ridge adds ridge·I to
// I − ∂ₓT. Tol and MaxIter are the linear solve's (defaults 1e-12 relative
// and linsolve's default). FixedPoint returns ErrNotConverged when the
// forward iteration did not converge (unless Options.AllowUnconverged);
// an unconverged linear solve is flagged in Info (LinearConverged false).
type Implicit struct {
	Solver  linsolve.Method
	Ridge   float64
	Tol     float64
	MaxIter int
}

// OneStep differentiates only the last iteration, x_K = T(x_{K−1}, θ), with
// x_{K−1} treated as a constant. For superlinearly convergent T (Newton) it
// equals the implicit derivative at convergence; for a linearly convergent
// T its error is −∂ₓT·J*, with J* the implicit derivative, and does not
// vanish with K.
type OneStep struct{}

// KStep differentiates the last K iterations (truncated back-propagation),
// the state K iterations before the end being treated as a constant. Its
// error decays like ρ^K for a T contracting at rate ρ. KStep{1} is OneStep.
type KStep struct {
	K int
}

// Detach returns the values with a zero derivative.
type Detach struct{}

func (Unroll) mode() string    { return "unroll" }
func (Piggyback) mode() string { return "piggyback" }
func (Implicit) mode() string  { return "implicit" }
func (OneStep) mode() string   { return "one-step" }
func (KStep) mode() string     { return "k-step" }
func (Detach) mode() string    { return "detach" }

// ModeName returns the name of m as reported in Info.Mode.
func ModeName(m Mode) string {
	if m == nil {
		return Implicit{}.mode()
	}
	return m.mode()
}

func validateMode(m Mode) error {
	switch m := m.(type) {
	case nil, Implicit, Piggyback, OneStep, Detach:
		if im, ok := m.(Implicit); ok && (im.Ridge < 0 || im.Tol < 0 || im.MaxIter < 0) {
			return fmt.Errorf("iterdiff: Implicit: negative Ridge, Tol or MaxIter: %+v", im)
		}
		if pb, ok := m.(Piggyback); ok && pb.Delay < 0 {
			return fmt.Errorf("iterdiff: Piggyback: negative Delay %d", pb.Delay)
		}
	case Unroll:
		if m.Checkpoints < CheckpointNone || m.Checkpoints == 1 {
			return fmt.Errorf("iterdiff: Unroll: Checkpoints = %d (want ≥ 2, CheckpointSqrt or CheckpointNone)", m.Checkpoints)
		}
	case KStep:
		if m.K < 1 {
			return fmt.Errorf("iterdiff: KStep: K = %d, want ≥ 1", m.K)
		}
	default:
		return fmt.Errorf("iterdiff: unknown mode %T", m)
	}
	return nil
}
