package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refMaxPool2x2 is the window scan by definition: the first element
// greater than the running best (or the first NaN) wins, and equal
// elements are counted.
func refMaxPool2x2(r0, r1 []float32, n, base, w int) (out []float32, idx []int32, ties int) {
	for o := 0; o < n; o++ {
		e := []float32{r0[2*o], r0[2*o+1], r1[2*o], r1[2*o+1]}
		offs := []int{0, 1, w, w + 1}
		bi, cnt := 0, 1
		for k := 1; k < 4; k++ {
			if e[bi] != e[bi] {
				break
			}
			switch {
			case e[k] != e[k]:
				bi, cnt = k, 1
			case e[k] > e[bi]:
				bi, cnt = k, 1
			case e[k] == e[bi]:
				cnt++
			}
			if e[k] != e[k] {
				break
			}
		}
		out = append(out, e[bi])
		idx = append(idx, int32(base+2*o+offs[bi]))
		if cnt > 1 {
			ties++
		}
	}
	return out, idx, ties
}

func TestMaxPool2x2Rows(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	nan := float32(math.NaN())
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 2, nan, float32(math.Inf(-1)), float32(math.Inf(1))}
	for trial := 0; trial < 3000; trial++ {
		n := 1 + r.IntN(40)
		w := 2*n + r.IntN(3)
		rows := 1 + r.IntN(4)
		step := w * (1 + r.IntN(3))
		x := make([]float32, (rows-1)*step+2*w+1)
		for i := range x {
			switch r.IntN(4) {
			case 0:
				x[i] = vals[r.IntN(len(vals))]
			case 1:
				x[i] = vals[r.IntN(5)] // ties among few values
			default:
				x[i] = float32(r.NormFloat64())
			}
		}
		base := r.IntN(1000)
		var wantOut []float32
		var wantIdx []int32
		wantTies := 0
		for i := 0; i < rows; i++ {
			o, id, ti := refMaxPool2x2(x[i*step:], x[i*step+w:], n, base+i*step, w)
			wantOut, wantIdx, wantTies = append(wantOut, o...), append(wantIdx, id...), wantTies+ti
		}
		for _, impl := range []struct {
			name string
			f    func(x, out []float32, idx []int32, rows, n, w, step, base int) int
		}{{"go", maxPool2x2RowsGo[float32]}, {"dispatch", MaxPool2x2Rows32}} {
			out := make([]float32, rows*n+1)
			idx := make([]int32, rows*n+1)
			out[rows*n], idx[rows*n] = 42, 42
			ties := impl.f(x[:(rows-1)*step+w+2*n], out[:rows*n], idx[:rows*n], rows, n, w, step, base)
			if ties != wantTies {
				t.Fatalf("%s trial %d: %d ties, want %d", impl.name, trial, ties, wantTies)
			}
			for o := range wantOut {
				if math.Float32bits(out[o]) != math.Float32bits(wantOut[o]) || idx[o] != wantIdx[o] {
					t.Fatalf("%s trial %d window %d: %v at %d, want %v at %d", impl.name, trial, o, out[o], idx[o], wantOut[o], wantIdx[o])
				}
			}
			if out[rows*n] != 42 || idx[rows*n] != 42 {
				t.Fatalf("%s trial %d: wrote past the rows", impl.name, trial)
			}
		}
	}
}

func BenchmarkMaxPool2x2Rows(b *testing.B) {
	x := make([]float32, 26*26)
	for i := range x {
		x[i] = float32(i % 7)
	}
	out := make([]float32, 13*13)
	idx := make([]int32, 13*13)
	for i := 0; i < b.N; i++ {
		MaxPool2x2Rows32(x, out, idx, 13, 13, 26, 52, 0)
	}
}

func TestMaxPoolScatter2x2Rows(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	negz := float32(math.Copysign(0, -1))
	for trial := 0; trial < 3000; trial++ {
		n := 1 + r.IntN(40)
		w := 2*n + r.IntN(3)
		rows := 1 + r.IntN(4)
		step := 2*w + w*r.IntN(2)
		base := r.IntN(1000)
		g := make([]float32, rows*n)
		idx := make([]int32, rows*n)
		for i := 0; i < rows; i++ {
			for o := 0; o < n; o++ {
				k := i*n + o
				switch r.IntN(5) {
				case 0:
					g[k] = negz
				case 1:
					g[k] = float32(math.NaN())
				default:
					g[k] = float32(r.NormFloat64())
				}
				idx[k] = int32(base + i*step + 2*o + []int{0, 1, w, w + 1}[r.IntN(4)])
			}
		}
		size := (rows-1)*step + 2*w
		// the reference: accumulate onto zeros, and which elements are in
		// a window
		want := make([]float32, size)
		in := make([]bool, size)
		for i := 0; i < rows; i++ {
			for o := 0; o < n; o++ {
				j := i*step + 2*o
				in[j], in[j+1], in[j+w], in[j+w+1] = true, true, true, true
				want[int(idx[i*n+o])-base] += g[i*n+o]
			}
		}
		for _, impl := range []struct {
			name string
			f    func(g []float32, idx []int32, dx []float32, rows, n, w, step, base int)
		}{{"go", MaxPoolScatter2x2RowsGo[float32]}, {"dispatch", MaxPoolScatter2x2Rows32}} {
			dx := make([]float32, size+1)
			for i := range dx {
				dx[i] = 7
			}
			impl.f(g, idx, dx[:(rows-1)*step+w+2*n], rows, n, w, step, base)
			for i := 0; i < size; i++ {
				if !in[i] {
					if dx[i] != 7 {
						t.Fatalf("%s trial %d: wrote element %d outside the windows", impl.name, trial, i)
					}
					continue
				}
				if math.Float32bits(dx[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s trial %d: element %d is %v, want %v", impl.name, trial, i, dx[i], want[i])
				}
			}
			if dx[size] != 7 {
				t.Fatalf("%s trial %d: wrote past the rows", impl.name, trial)
			}
		}
	}
}
