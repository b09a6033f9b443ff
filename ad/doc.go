// Package ad is gradus's automatic differentiation: reverse mode on a tape,
// forward mode with tangents, and any nesting of the two (Hessian-vector
// products, gradients of gradients) without perturbation confusion.
//
// A Var is a tensor value inside a computation. Operations on Vars (Add,
// MatMul, Relu, ...) are primitives: each is defined once, with its forward
// kernel, its JVP and VJP rules, its kink choices and its flop cost side by
// side. The rules are themselves written with Var operations, so derivatives
// of derivatives need no extra code.
//
// Derivatives are honest: at a nonsmooth point (relu at 0, abs at 0, ties of
// max) the element of the generalized derivative that is used is a named
// choice in a Policy, and the number of elements evaluated exactly at a kink
// is counted per primitive in Stats. The chosen value multiplies the
// incoming tangent or cotangent.
//
// Nothing is global: the Policy, the counters and the anomaly detector
// belong to a Tape (reverse mode) or a Forward (forward mode), so
// goroutines can differentiate different programs at once. A Var must not
// be used by two goroutines while one of them records on its tape.
//
// Misuse of tensor math (shape or dtype mismatch) panics with a message
// naming the operation and the shapes; the functional API (Grad, JVP, ...)
// returns errors for bad arguments and for anomalies.
package ad
