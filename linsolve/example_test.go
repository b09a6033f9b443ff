package linsolve_test

import (
	"fmt"

	"github.com/gradus-ml/gradus/linsolve"
	"gonum.org/v1/gonum/mat"
)

// Solve a symmetric positive definite system given as an operator.
func ExampleCG() {
	// A = [[4, 1], [1, 3]]
	a := func(dst, x []float64) {
		dst[0] = 4*x[0] + x[1]
		dst[1] = x[0] + 3*x[1]
	}
	r, err := linsolve.CG(a, []float64{1, 2}, &linsolve.Options{Tol: 1e-12})
	if err != nil {
		panic(err)
	}
	fmt.Printf("x = [%.6f %.6f], %d iterations, converged %v\n", r.X[0], r.X[1], r.Iterations, r.Converged)
	// Output: x = [0.090909 0.636364], 2 iterations, converged true
}

// A nonsymmetric system with a ridge, (A + 0.5·I)x = b, by GMRES and by LU
// (x checks by hand: 2.5·x₀ + x₁ = 1, 3.5·x₁ + x₂ = 2, x₀ + 4.5·x₂ = 3).
func ExampleGMRES() {
	A := mat.NewDense(3, 3, []float64{2, 1, 0, 0, 3, 1, 1, 0, 4})
	b := []float64{1, 2, 3}
	o := &linsolve.Options{Ridge: 0.5, Tol: 1e-12}
	g, err := linsolve.GMRES(linsolve.MatOperator(A), b, o)
	if err != nil {
		panic(err)
	}
	l, err := linsolve.LU(A, b, o)
	if err != nil {
		panic(err)
	}
	fmt.Printf("GMRES: [%.6f %.6f %.6f] in %d iterations\n", g.X[0], g.X[1], g.X[2], g.Iterations)
	fmt.Printf("LU:    [%.6f %.6f %.6f], residual below 1e-12: %v\n", l.X[0], l.X[1], l.X[2], l.Residual < 1e-12)
	// Output:
	// GMRES: [0.241486 0.396285 0.613003] in 3 iterations
	// LU:    [0.241486 0.396285 0.613003], residual below 1e-12: true
}
