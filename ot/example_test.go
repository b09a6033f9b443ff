package ot_test

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/ot"
	"github.com/gradus-ml/gradus/tensor"
)

// Transport between two small histograms; the plan's marginals are a and b.
func ExampleSinkhorn() {
	C := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{
		0, 1, 4,
		1, 0, 1,
	}, 2, 3))
	a := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{0.5, 0.5}, 2))
	b := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{0.25, 0.25, 0.5}, 3))
	res, err := ot.Sinkhorn(C, a, b, ot.Options{Eps: 0.5})
	if err != nil {
		panic(err)
	}
	fmt.Println("converged:", res.Info.Converged)
	fmt.Printf("row sums: %.6f\n", tensor.Sum(res.Plan.Value(), []int{1}, false).Float64s())
	fmt.Printf("column sums: %.6f\n", tensor.Sum(res.Plan.Value(), []int{0}, false).Float64s())
	fmt.Printf("<P, C> = %.4f\n", res.TransportCost.Item())
	// Output:
	// converged: true
	// row sums: [0.500000 0.500000]
	// column sums: [0.250000 0.250000 0.500000]
	// <P, C> = 0.8364
}

// The gradient of the transport cost with respect to the points of the
// first cloud, by the envelope theorem and by implicit differentiation.
func ExampleSinkhornPoints() {
	x := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{0, 0, 1, 0}, 2, 2))
	y := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{0, 1, 1, 1}, 2, 2))
	for _, env := range []bool{true, false} {
		g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			res, err := ot.SinkhornPoints(xs[0], y, ot.SqEuclidean, nil, nil,
				ot.Options{Eps: 0.05, Tol: 1e-12, Envelope: env, Mode: iterdiff.Implicit{}})
			if err != nil {
				panic(err)
			}
			return res.Cost
		}, []*ad.Var{x}, nil)
		if err != nil {
			panic(err)
		}
		fmt.Printf("envelope %v: %.4f\n", env, rounded(g[0].Value().Float64s()))
	}
	// Output:
	// envelope true: [0.0000 -1.0000 0.0000 -1.0000]
	// envelope false: [0.0000 -1.0000 0.0000 -1.0000]
}

// Unbalanced transport: with a KL penalty τ on the marginals, the plan
// may move less mass than a or b hold.
func ExampleOptions_unbalanced() {
	C := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{0, 2, 2, 0}, 2, 2))
	a := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{1, 1}, 2))
	b := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{2, 0.5}, 2))
	res, err := ot.Sinkhorn(C, a, b, ot.Options{Eps: 0.1, TauA: 1, TauB: 1, Mode: iterdiff.Detach{}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("mass moved: %.4f (a has 2, b has 2.5)\n", tensor.Sum(res.Plan.Value(), nil, false).Item())
	// Output:
	// mass moved: 2.1333 (a has 2, b has 2.5)
}

// rounded rounds to 4 decimals, without negative zeros.
func rounded(v []float64) []float64 {
	for i := range v {
		v[i] = math.Round(v[i]*1e4)/1e4 + 0
	}
	return v
}

// The Sinkhorn divergence vanishes between identical clouds; for a
// translation by t with the squared Euclidean cost it is ‖t‖² exactly.
func ExampleDivergence() {
	x := tensor.FromFloat64s(tensor.Float64, []float64{0, 0, 1, 0, 0, 1}, 3, 2)
	for _, shift := range []float64{0, 0.5, 1} {
		y := tensor.AddScalar(x, shift)
		s, _, err := ot.Divergence(ad.Const(x), ad.Const(y), nil, nil, nil, ot.Options{Eps: 0.1, Mode: iterdiff.Detach{}})
		if err != nil {
			panic(err)
		}
		fmt.Printf("shift %.1f: S = %.4f\n", shift, math.Abs(s.Item()))
	}
	// Output:
	// shift 0.0: S = 0.0000
	// shift 0.5: S = 0.5000
	// shift 1.0: S = 2.0000
}

// Forward-mode derivatives of the iterates: the tangent dP_k/dθ of the
// plan along the Sinkhorn iterations for a cost C(θ) = C₀ + θ·D.
func ExampleIterate() {
	C0 := tensor.FromFloat64s(tensor.Float64, []float64{0, 1, 1, 0}, 2, 2)
	D := tensor.FromFloat64s(tensor.Float64, []float64{0, 1, 0, 0}, 2, 2)
	fw, err := ad.NewForward(nil)
	if err != nil {
		panic(err)
	}
	defer fw.Close()
	theta, _ := fw.Seed(ad.Scalar(tensor.Float64, 0), ad.Scalar(tensor.Float64, 1))
	C := ad.Add(ad.Const(C0), ad.Mul(theta, ad.Const(D)))
	err = ot.Iterate(C, nil, nil, ot.Options{Eps: 0.5, Method: ot.Kernel}, 30, func(k int, P *ad.Var) bool {
		if k%10 == 0 {
			_, dP := fw.Tangent(P)
			fmt.Printf("k=%d: dP_01/dθ = %.6f\n", k, dP.Value().At(0, 1))
		}
		return true
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// k=10: dP_01/dθ = -0.052794
	// k=20: dP_01/dθ = -0.052498
	// k=30: dP_01/dθ = -0.052497
}
