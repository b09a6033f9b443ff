// Package check is gradus's gradient checker, in the manner of
// torch.autograd.gradcheck: it compares the derivatives that package ad
// computes for a function against central finite differences evaluated in
// float64, and the derivative modes of ad against each other.
//
//   - Gradient: reverse mode (ad.VJP with a random cotangent u) against
//     finite differences of ⟨u, f(x)⟩, along random directions and, for small
//     inputs, element by element.
//   - Forward: forward mode (ad.JVP) against finite differences of f along
//     random directions, element by element of the output.
//   - JVPvsVJP: ⟨u, J·v⟩ through ad.JVP against ⟨Jᵀu, v⟩ through ad.VJP.
//   - SecondOrder: the Hessian-vector product of ⟨u, f(x)⟩ (ad.HVP, forward
//     over reverse) against finite differences of gradients, and against
//     reverse over reverse, reverse over forward and forward over forward.
//   - All runs the four.
//   - Consistency compares the modes with each other only (JVPvsVJP and the
//     second-order nestings), which stays meaningful at kinks, where every
//     mode must use the Policy's element of the generalized derivative.
//
// The finite differences are fourth-order central differences with the
// step h·max(1, |xᵢ|) per element, h = ε^(1/5) for the machine epsilon ε
// of the dtype in which f is evaluated. Inputs of a lower precision are
// copied to float64 for the finite differences whenever f accepts float64
// inputs, so the reference is accurate and only the derivative under test
// carries the rounding of its dtype; the default tolerances follow the
// inputs' dtype. A function that rounds to a lower precision inside (a
// Cast to float16 within a float64 computation) makes the reference carry
// that rounding too: give it Options.Atol, Rtol and Step to match.
//
// A mismatch is returned as an *Error naming the function (Options.Name),
// the check, the input, the worst element (flat index and multi-index),
// the two values compared and the tolerance. A panic inside f is returned
// as an *Error too; the checker itself never panics on a mismatch. The
// random directions come from a generator seeded by Options.Seed, so a
// check is deterministic.
package check
