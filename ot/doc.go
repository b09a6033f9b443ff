// Package ot computes entropic optimal transport with the Sinkhorn-Knopp
// algorithm, and its derivatives.
//
// Sinkhorn solves, for an n×m cost matrix C and histograms a and b,
//
//	OT_ε(a, b) = min_P ⟨P, C⟩ + ε·KL(P | a⊗b) + τa·KL(P1 | a) + τb·KL(Pᵀ1 | b)
//
// (hard marginal constraints when τ = 0, the default; unbalanced transport
// otherwise), returning the plan P, the dual potentials (f, g) with
// P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε), the regularized cost and ⟨P, C⟩.
// For balanced problems the plan is POT's (ot.sinkhorn) to 1e-15 on the
// problems of testdata/pot_reference.json. POT's unbalanced solver
// regularizes with the entropy Σ P log P − P instead of KL(P | a⊗b): ours
// on the cost C + ε(log a_i + log b_j) is POT's problem on C. Variants:
// the log-domain iteration (stable for any ε; its row and column
// log-sum-exp reductions run in AVX2 assembly on amd64, two goroutines) and
// the kernel (scaling) iteration, ε-scaling, batches of equal-size problems
// (SinkhornBatch), point clouds with a cost function (SinkhornPoints) and the
// Sinkhorn divergence (Divergence).
//
// Results are ad Vars, differentiable in C (hence in points through a cost
// function) and in the marginals, in the mode chosen by Options.Mode, all
// through package iterdiff: Implicit (default; the implicit function
// theorem on the gauge-fixed log-domain fixed point, matrix-free, nothing
// larger than the plan is built), Unroll (with checkpointing), Piggyback
// (forward derivatives along the iterates), OneStep and KStep (the last
// iterations at the solution), Detach; and Options.Envelope gives the
// Danskin gradient of the cost (P for C). Every mode gives JVPs and VJPs.
// Iterate exposes the iterates P_k and, under an ad.Forward, their
// derivatives dP_k.
//
// Honesty: Info reports iterations, the marginal error and a Converged
// flag; an iteration that stops being finite (the kernel underflows at
// small ε) returns ErrNumerical instead of NaN; Implicit mode refuses an
// unconverged solve (ErrNotConverged) unless AllowUnconverged. In balanced
// problems derivatives with respect to a and b are meaningful only along
// mass-preserving directions (Σȧ = Σḃ = 0).
package ot
