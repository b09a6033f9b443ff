package ad

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// TestMaxPool2x2F32 checks the float32 2×2 kernel against the generic one
// bit for bit (values, first winners, tie counts) on windows drawn from a
// small set with signed zeros, infinities and NaNs, for strides 1 to 3.
func TestMaxPool2x2F32(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	negz := math.Float32frombits(1 << 31)
	vals := []float32{0, negz, 1, -1, 2, -2, inf, -inf, nan, 1e-45, -1e-45, math.MaxFloat32, -math.MaxFloat32}
	r := tensor.NewRNG(7)
	for _, sh := range []int{1, 2, 3} {
		for _, sw := range []int{1, 2, 3} {
			for trial := 0; trial < 20; trial++ {
				g := newPoolGeom("t", []int{2, 3, 7, 9}, Pool2dOptions{Kernel: [2]int{2, 2}, Stride: [2]int{sh, sw}})
				x := make([]float32, g.inSize())
				for i := range x {
					if trial%2 == 0 {
						x[i] = vals[r.IntN(len(vals))]
					} else {
						x[i] = vals[r.IntN(6)] // no NaNs, no infinities: the fast path
					}
				}
				o1, o2 := make([]float32, g.outSize()), make([]float32, g.outSize())
				i1, i2 := make([]int32, g.outSize()), make([]int32, g.outSize())
				t1 := maxPool2x2(x, g, o1, i1, 0, g.n*g.c)
				t2 := maxPool2x2F32(x, g, o2, i2, 0, g.n*g.c)
				if t1 != t2 {
					t.Fatalf("stride %d×%d: ties %d, want %d", sh, sw, t2, t1)
				}
				for k := range o1 {
					if math.Float32bits(o1[k]) != math.Float32bits(o2[k]) || i1[k] != i2[k] {
						t.Fatalf("stride %d×%d, output %d: %v at %d, want %v at %d", sh, sw, k, o2[k], i2[k], o1[k], i1[k])
					}
				}
				if t3 := maxPool2x2F32(x, g, o2, nil, 0, g.n*g.c); t3 != t1 {
					t.Fatalf("without indices: ties %d, want %d", t3, t1)
				}
			}
		}
	}
}
