package tensor

import (
	"fmt"
	"testing"
)

// naiveMatMul computes op(a)·op(b) in float64 with explicit loops over
// broadcast batch indices.
func naiveMatMul(a, b *Tensor, ta, tb bool) ([]int, []float64) {
	as, bs := a.Shape(), b.Shape()
	ra, ca := as[len(as)-2], as[len(as)-1]
	rb, cb := bs[len(bs)-2], bs[len(bs)-1]
	m, k := ra, ca
	if ta {
		m, k = ca, ra
	}
	n := cb
	if tb {
		n = rb
	}
	batchA, batchB := as[:len(as)-2], bs[:len(bs)-2]
	batch, err := BroadcastShapes(batchA, batchB)
	if err != nil {
		panic(err)
	}
	out := append(append([]int{}, batch...), m, n)
	res := make([]float64, prod(out))
	for bi := 0; bi < prod(batch); bi++ {
		idx := unravel(bi, batch)
		oa, ob := bindex(idx, batchA)*ra*ca, bindex(idx, batchB)*rb*cb
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				s := 0.0
				for p := 0; p < k; p++ {
					var x, y float64
					if ta {
						x = a.AtFlat(oa + p*ca + i)
					} else {
						x = a.AtFlat(oa + i*ca + p)
					}
					if tb {
						y = b.AtFlat(ob + j*cb + p)
					} else {
						y = b.AtFlat(ob + p*cb + j)
					}
					s += x * y
				}
				res[(bi*m+i)*n+j] = s
			}
		}
	}
	return out, res
}

func TestMatMulNaive(t *testing.T) {
	g := NewRNG(8)
	type mk struct {
		batchA, batchB []int
		m, k, n        int
	}
	cases := []mk{
		{nil, nil, 2, 3, 4},
		{nil, nil, 1, 1, 1},
		{nil, nil, 37, 53, 29}, // packed path
		{nil, nil, 64, 64, 64},
		{nil, nil, 3, 0, 4}, // empty inner dimension: zeros
		{[]int{2}, []int{2}, 5, 6, 7},
		{[]int{2, 3}, []int{3}, 4, 5, 6}, // broadcast batch
		{[]int{1}, []int{4}, 3, 2, 5},    // size-1 batch
		{nil, []int{3}, 4, 4, 2},         // 2-D times batched
		{[]int{2, 1}, []int{1, 3}, 9, 17, 11},
	}
	for _, d := range []DType{Float64, Float32} {
		tol := 1e-12
		if d == Float32 {
			tol = 2e-5
		}
		for _, c := range cases {
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					sa := append(append([]int{}, c.batchA...), c.m, c.k)
					if ta {
						sa = append(append([]int{}, c.batchA...), c.k, c.m)
					}
					sb := append(append([]int{}, c.batchB...), c.k, c.n)
					if tb {
						sb = append(append([]int{}, c.batchB...), c.n, c.k)
					}
					a, b := g.Normal(d, sa...), g.Normal(d, sb...)
					shape, want := naiveMatMul(a, b, ta, tb)
					got := MatMul(a, b, ta, tb)
					checkValues(t, fmt.Sprintf("%v MatMul %v %v ta=%v tb=%v", d, sa, sb, ta, tb), got, shape, want, tol*float64(c.k+1))
				}
			}
		}
	}
}
