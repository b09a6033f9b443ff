package ot

import (
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/tensor"
)

// benchIters is the iteration count of the benchmarks.
var benchIters = 1000

// benchProblem returns the squared Euclidean cost between n and m points
// drawn uniformly in the unit square.
func benchProblem(n, m int, seed uint64) *tensor.Tensor {
	rng := tensor.NewRNG(seed)
	x := rng.Uniform(tensor.Float64, 0, 1, n, 2)
	y := rng.Uniform(tensor.Float64, 0, 1, m, 2)
	return SqEuclidean(ad.Const(x), ad.Const(y)).Value()
}

// BenchmarkSinkhornLog is the anchor benchmark of issue 6: n = m = 1000
// points in the unit square, squared Euclidean cost, ε = 0.05, 1000
// log-domain iterations, float64. Anchor: POT's ot.bregman.sinkhorn_log on
// the same problem, timed by testdata/bench_pot.sh in the same run.
func BenchmarkSinkhornLog(b *testing.B) {
	C := ad.Const(benchProblem(1000, 1000, 1))
	o := Options{Eps: 0.05, MaxIter: benchIters, Tol: -1, Mode: iterdiff.Detach{}}
	t0 := cpuNow()
	defer func() { b.ReportMetric((cpuNow()-t0)/1e9/float64(b.N), "cpu-s/op") }()
	for b.Loop() {
		res, err := Sinkhorn(C, nil, nil, o)
		if err != nil {
			b.Fatal(err)
		}
		if res.Info.Iterations != benchIters {
			b.Fatalf("%d iterations", res.Info.Iterations)
		}
	}
}

// BenchmarkSinkhornKernel is the same problem with the kernel method.
func BenchmarkSinkhornKernel(b *testing.B) {
	C := ad.Const(benchProblem(1000, 1000, 1))
	o := Options{Eps: 0.05, MaxIter: 1000, Tol: -1, Method: Kernel, Mode: iterdiff.Detach{}}
	for b.Loop() {
		if _, err := Sinkhorn(C, nil, nil, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImplicitGrad times the gradient of ⟨W, P⟩ with respect to the
// cost matrix in Implicit mode (solve included), n = m = 500, ε = 0.05.
func BenchmarkImplicitGrad(b *testing.B) {
	C := ad.Const(benchProblem(500, 500, 2))
	W := ad.Const(tensor.NewRNG(3).Normal(tensor.Float64, 500, 500))
	o := Options{Eps: 0.05, Tol: 1e-9, MaxIter: 10000}
	var info *Info
	for b.Loop() {
		_, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			res, err := Sinkhorn(xs[0], nil, nil, o)
			if err != nil {
				b.Fatal(err)
			}
			info = res.Info
			return ad.SumAll(ad.Mul(res.Plan, W))
		}, []*ad.Var{C}, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(info.Iterations), "iters")
	b.ReportMetric(float64(info.Deriv.LinearIterations), "linear-iters")
}
