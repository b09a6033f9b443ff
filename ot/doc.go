// Package ot computes entropic optimal transport with the Sinkhorn-Knopp
// algorithm, and its derivatives.
package ot
