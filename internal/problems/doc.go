// Package problems builds the test problems shared by the tests of package
// iterdiff and the experiments of package repro: the data of ℓ2-logistic
// regression (logistic.go), the elastic-net soft-threshold kink
// (elasticnet.go) and the least-squares problem for SGD (sgd.go).
//
// The builders return plain data (slices and gonum matrices), never
// iterdiff steps, so that iterdiff's own (internal) tests can import this
// package. Every builder is deterministic: it draws only from the Source it
// is given (a *tensor.RNG, or a *math/rand/v2.Rand made from a seed), in a
// fixed order, so the same source state gives bit-identical data.
package problems

// Source is the random number generator a builder draws from. Both
// *tensor.RNG and *rand.Rand (math/rand/v2) satisfy it.
type Source interface {
	Float64() float64
	NormFloat64() float64
	IntN(n int) int
}
