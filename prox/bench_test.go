package prox_test

import (
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/prox"
	"github.com/gradus-ml/gradus/tensor"
)

// Benchmarks of a 256×128 batch: the value alone (the anchor) and the
// value with the gradient of a sum, whose ratio is the cost of the
// derivative.
func benchOp(b *testing.B, f func(*ad.Var) *ad.Var, grad bool) {
	x := ad.Const(tensor.NewRNG(1).Normal(tensor.Float64, 256, 128))
	loss := func(v ...*ad.Var) *ad.Var {
		return ad.SumAll(ad.Mul(f(v[0]), ad.Const(tensor.Ones(tensor.Float64, 256, 128))))
	}
	b.ResetTimer()
	for range b.N {
		if grad {
			if _, err := ad.Grad(loss, []*ad.Var{x}, nil); err != nil {
				b.Fatal(err)
			}
		} else {
			f(x)
		}
	}
}

func simplex(x *ad.Var) *ad.Var { return prox.ProjSimplex(x, 1) }
func l2ball(x *ad.Var) *ad.Var  { return prox.ProjL2Ball(x, 5) }
func groups(x *ad.Var) *ad.Var {
	gs := make([][]int, 32)
	for g := range gs {
		gs[g] = []int{4 * g, 4*g + 1, 4*g + 2, 4*g + 3}
	}
	return prox.GroupLasso(x, 2, gs)
}

func BenchmarkSimplexValue(b *testing.B)    { benchOp(b, simplex, false) }
func BenchmarkSimplexGrad(b *testing.B)     { benchOp(b, simplex, true) }
func BenchmarkL2BallValue(b *testing.B)     { benchOp(b, l2ball, false) }
func BenchmarkL2BallGrad(b *testing.B)      { benchOp(b, l2ball, true) }
func BenchmarkGroupLassoValue(b *testing.B) { benchOp(b, groups, false) }
func BenchmarkGroupLassoGrad(b *testing.B)  { benchOp(b, groups, true) }
