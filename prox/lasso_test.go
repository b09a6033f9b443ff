package prox_test

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/prox"
	"github.com/gradus-ml/gradus/tensor"
)

// solve solves the small dense system M z = b by Gaussian elimination with
// partial pivoting (M is n×n, row-major; both are copied).
func solve(m []float64, b []float64) []float64 {
	n := len(b)
	a := append([]float64(nil), m...)
	z := append([]float64(nil), b...)
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r*n+c]) > math.Abs(a[p*n+c]) {
				p = r
			}
		}
		for k := range n {
			a[c*n+k], a[p*n+k] = a[p*n+k], a[c*n+k]
		}
		z[c], z[p] = z[p], z[c]
		for r := c + 1; r < n; r++ {
			f := a[r*n+c] / a[c*n+c]
			for k := c; k < n; k++ {
				a[r*n+k] -= f * a[c*n+k]
			}
			z[r] -= f * z[c]
		}
	}
	for c := n - 1; c >= 0; c-- {
		for k := c + 1; k < n; k++ {
			z[c] -= a[c*n+k] * z[k]
		}
		z[c] /= a[c*n+c]
	}
	return z
}

// Unrolled ISTA on a lasso, differentiated through L1Var by the tape:
// after convergence the Jacobians of the solution with respect to y and to
// λ equal the closed forms on the support S,
//
//	∂x_S/∂y = (A_SᵀA_S)⁻¹A_Sᵀ,  ∂x_S/∂λ = −(A_SᵀA_S)⁻¹ sign(x_S),
//
// and 0 off S.
func TestUnrolledLassoJacobian(t *testing.T) {
	const m, n, iters = 20, 8, 400
	g := tensor.NewRNG(21)
	A := g.Normal(tensor.Float64, m, n)
	y := g.Normal(tensor.Float64, m, 1)
	// step 1/L, L = ‖A‖₂² by power iteration
	v := tensor.Ones(tensor.Float64, n, 1)
	L := 0.0
	for range 200 {
		w := tensor.MatMul(A, tensor.MatMul(A, v, false, false), true, false)
		L = norm(w.Float64s()) / norm(v.Float64s())
		v = tensor.Scale(w, 1/norm(w.Float64s()))
	}
	gamma := 1 / L
	aty := tensor.MatMul(A, y, true, false).Float64s()
	lmax := 0.0
	for _, e := range aty {
		lmax = max(lmax, math.Abs(e))
	}
	lam := ad.Scalar(tensor.Float64, 0.4*lmax)

	Av := ad.Const(A)
	ista := func(yv, lv *ad.Var) *ad.Var {
		x := ad.Const(tensor.Zeros(tensor.Float64, n, 1))
		thr := ad.Scale(lv, gamma)
		for range iters {
			r := ad.Sub(ad.MatMul(Av, x), yv)
			x = prox.L1Var(ad.Sub(x, ad.Scale(ad.MatMulT(Av, r, true, false), gamma)), thr)
		}
		return x
	}
	xs := ista(ad.Const(y), lam).Value().Float64s()
	var S []int
	for i, e := range xs {
		if e != 0 {
			S = append(S, i)
		}
	}
	if len(S) == 0 || len(S) == n {
		t.Fatalf("degenerate support %v", S)
	}
	// closed forms on S
	k := len(S)
	G := make([]float64, k*k)
	ad64 := A.Float64s()
	for i, a := range S {
		for j, b := range S {
			for r := range m {
				G[i*k+j] += ad64[r*n+a] * ad64[r*n+b]
			}
		}
	}
	jy := make([][]float64, n) // [n][m]
	for i := range jy {
		jy[i] = make([]float64, m)
	}
	for r := range m {
		col := make([]float64, k)
		for i, a := range S {
			col[i] = ad64[r*n+a]
		}
		z := solve(G, col)
		for i, a := range S {
			jy[a][r] = z[i]
		}
	}
	sg := make([]float64, k)
	for i, a := range S {
		sg[i] = -math.Copysign(1, xs[a])
	}
	jl := make([]float64, n)
	for i, z := range solve(G, sg) {
		jl[S[i]] = z
	}

	// reverse mode: one VJP per component of x
	for i := range n {
		u := tensor.Zeros(tensor.Float64, n, 1)
		u.SetFlat(i, 1)
		_, gs, err := ad.VJP(func(v ...*ad.Var) *ad.Var { return ista(v[0], v[1]) }, []*ad.Var{ad.Const(y), lam}, ad.Const(u), nil)
		if err != nil {
			t.Fatal(err)
		}
		if e := maxDiff(gs[0].Value().Float64s(), jy[i]); e > 1e-9 {
			t.Fatalf("∂x_%d/∂y = %v, closed form %v (error %v)", i, gs[0].Value().Float64s(), jy[i], e)
		}
		if e := math.Abs(gs[1].Item() - jl[i]); e > 1e-9 {
			t.Fatalf("∂x_%d/∂λ = %v, closed form %v", i, gs[1].Item(), jl[i])
		}
	}
	// forward mode along λ
	_, tl, err := ad.JVP(func(v ...*ad.Var) *ad.Var { return ista(ad.Const(y), v[0]) }, []*ad.Var{lam}, []*ad.Var{ad.Scalar(tensor.Float64, 1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := maxDiff(tl.Value().Float64s(), jl); e > 1e-9 {
		t.Fatalf("forward ∂x/∂λ = %v, closed form %v", tl.Value().Float64s(), jl)
	}
}
