package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

type convGeomCase struct {
	c, h, w, kh, kw, sh, sw, ph, pw, dh, dw int
}

var convCases = []convGeomCase{
	{1, 5, 5, 3, 3, 1, 1, 0, 0, 1, 1},
	{3, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1},
	{2, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1},
	{2, 10, 9, 2, 3, 2, 1, 0, 2, 1, 1},
	{3, 11, 12, 3, 3, 1, 2, 2, 1, 2, 2},
	{4, 6, 6, 1, 1, 1, 1, 0, 0, 1, 1},
	{1, 4, 4, 5, 5, 1, 1, 2, 2, 1, 1},
	{2, 7, 5, 3, 2, 3, 2, 3, 3, 2, 3},
	{1, 3, 3, 3, 3, 1, 1, 0, 0, 2, 2}, // kernel does not fit: empty output
}

// directConv computes out[o, y, x] = Σ w[o, ci, ki, kj]·img[ci, y*sh−ph+ki*dh, x*sw−pw+kj*dw].
func directConv(g convGeomCase, img, wt []float64, outC int) []float64 {
	oh, ow := ConvOutSize(g.h, g.kh, g.sh, g.ph, g.dh), ConvOutSize(g.w, g.kw, g.sw, g.pw, g.dw)
	out := make([]float64, outC*oh*ow)
	for o := 0; o < outC; o++ {
		for y := 0; y < oh; y++ {
			for x := 0; x < ow; x++ {
				var s float64
				for ci := 0; ci < g.c; ci++ {
					for ki := 0; ki < g.kh; ki++ {
						for kj := 0; kj < g.kw; kj++ {
							iy, ix := y*g.sh-g.ph+ki*g.dh, x*g.sw-g.pw+kj*g.dw
							if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
								continue
							}
							s += wt[((o*g.c+ci)*g.kh+ki)*g.kw+kj] * img[(ci*g.h+iy)*g.w+ix]
						}
					}
				}
				out[(o*oh+y)*ow+x] = s
			}
		}
	}
	return out
}

// TestIm2ColConv checks that the weights times the column matrix equal a
// direct convolution, in float64 and float32.
func TestIm2ColConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const outC = 5
	for _, g := range convCases {
		t.Run(fmt.Sprint(g), func(t *testing.T) {
			img := randSlice(rng, g.c*g.h*g.w)
			wt := randSlice(rng, outC*g.c*g.kh*g.kw)
			want := directConv(g, img, wt, outC)
			oh, ow := ConvOutSize(g.h, g.kh, g.sh, g.ph, g.dh), ConvOutSize(g.w, g.kw, g.sw, g.pw, g.dw)
			rows, cols := g.c*g.kh*g.kw, oh*ow
			col := make([]float64, rows*cols)
			for i := range col {
				col[i] = math.NaN() // every element must be written
			}
			Im2Col64(col, img, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw)
			got := make([]float64, outC*cols)
			if cols > 0 {
				Gemm64(false, false, outC, cols, rows, 1, wt, rows, col, cols, 0, got, cols)
			}
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-12 {
					t.Fatalf("f64 out[%d] = %g, want %g", i, got[i], want[i])
				}
			}
			col32 := make([]float32, rows*cols)
			Im2Col32(col32, to32(img), g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw)
			got32 := make([]float32, outC*cols)
			if cols > 0 {
				Gemm32(false, false, outC, cols, rows, 1, to32(wt), rows, col32, cols, 0, got32, cols)
			}
			for i := range want {
				if math.Abs(float64(got32[i])-want[i]) > 1e-4 {
					t.Fatalf("f32 out[%d] = %g, want %g", i, got32[i], want[i])
				}
			}
		})
	}
}

// TestCol2ImAdjoint checks ⟨Im2Col(x), y⟩ = ⟨x, Col2Im(y)⟩ and that Col2Im
// accumulates into its destination.
func TestCol2ImAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, g := range convCases {
		oh, ow := ConvOutSize(g.h, g.kh, g.sh, g.ph, g.dh), ConvOutSize(g.w, g.kw, g.sw, g.pw, g.dw)
		n := g.c * g.kh * g.kw * oh * ow
		x := randSlice(rng, g.c*g.h*g.w)
		y := randSlice(rng, n)
		cx := make([]float64, n)
		Im2Col64(cx, x, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw)
		base := randSlice(rng, len(x))
		ay := append([]float64(nil), base...)
		Col2Im64(ay, y, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw)
		var lhs, rhs float64
		for i := range cx {
			lhs += cx[i] * y[i]
		}
		for i := range x {
			rhs += x[i] * (ay[i] - base[i])
		}
		if math.Abs(lhs-rhs) > 1e-10*(1+math.Abs(lhs)) {
			t.Fatalf("%v: <im2col x, y> = %g, <x, col2im y> = %g", g, lhs, rhs)
		}
		ay32 := to32(base)
		Col2Im32(ay32, to32(y), g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw)
		for i := range ay {
			if math.Abs(float64(ay32[i])-ay[i]) > 1e-4 {
				t.Fatalf("%v: Col2Im32[%d] = %g, Col2Im64 %g", g, i, ay32[i], ay[i])
			}
		}
	}
}

func TestIm2ColPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("no panic for a short column buffer")
		}
	}()
	Im2Col64(make([]float64, 3), make([]float64, 25), 1, 5, 5, 3, 3, 1, 1, 0, 0, 1, 1)
}
