package nn_test

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/tensor"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// Attention against a direct loop implementation: per head,
// softmax over s ≤ t of q_t·k_s/√dh, weighting v_s.
func TestAttentionValues(t *testing.T) {
	g := tensor.NewRNG(12)
	const B, T, D, H = 2, 5, 6, 3
	dh := D / H
	a := nn.NewCausalSelfAttention(g, tensor.Float64, D, H)
	x := g.Normal(tensor.Float64, B, T, D)
	got := a.Forward(nil, ad.Const(x)).Value()
	lin := func(l *nn.Linear, in []float64) []float64 {
		out := make([]float64, l.Weight.Dim(0))
		for o := range out {
			s := l.Bias.AtFlat(o)
			for i, v := range in {
				s += l.Weight.At(o, i) * v
			}
			out[o] = s
		}
		return out
	}
	for b := 0; b < B; b++ {
		qkv := make([][]float64, T)
		for p := 0; p < T; p++ {
			row := make([]float64, D)
			for i := range row {
				row[i] = x.At(b, p, i)
			}
			qkv[p] = lin(a.CAttn, row)
		}
		for p := 0; p < T; p++ {
			y := make([]float64, D)
			for h := 0; h < H; h++ {
				q := qkv[p][h*dh : (h+1)*dh]
				w := make([]float64, p+1)
				m := math.Inf(-1)
				for s := 0; s <= p; s++ {
					k := qkv[s][D+h*dh : D+(h+1)*dh]
					for i := range q {
						w[s] += q[i] * k[i]
					}
					w[s] /= math.Sqrt(float64(dh))
					m = math.Max(m, w[s])
				}
				z := 0.0
				for s := range w {
					w[s] = math.Exp(w[s] - m)
					z += w[s]
				}
				for s := range w {
					v := qkv[s][2*D+h*dh : 2*D+(h+1)*dh]
					for i := range v {
						y[h*dh+i] += w[s] / z * v[i]
					}
				}
			}
			want := lin(a.CProj, y)
			for i := range want {
				if !near(got.At(b, p, i), want[i], 1e-12) {
					t.Fatalf("sample %d position %d feature %d: %v, want %v", b, p, i, got.At(b, p, i), want[i])
				}
			}
		}
	}
}

// The GPT model is causal: changing a later token leaves the logits of
// earlier positions unchanged.
func TestGPTCausal(t *testing.T) {
	m := must(nn.NewGPT(tensor.NewRNG(13), tensor.Float64, nn.GPTConfig{Vocab: 9, Context: 6, Layers: 2, Heads: 2, Width: 8}))
	ids := []int{1, 5, 2, 8, 0, 3}
	a := m.Logits(nil, ids, 1, 6).Value()
	ids[4] = 7
	b := m.Logits(nil, ids, 1, 6).Value()
	for i := 0; i < a.Size(); i++ {
		pos := i / 9
		same := a.AtFlat(i) == b.AtFlat(i)
		if pos < 4 && !same {
			t.Fatalf("logit of position %d changed with the token at position 4", pos)
		}
		if pos == 5 && same {
			t.Fatalf("logit of position 5 did not change with the token at position 4")
		}
	}
}

// BatchNorm2d and LayerNorm against direct computations.
func TestNormValues(t *testing.T) {
	g := tensor.NewRNG(14)
	x := g.Normal(tensor.Float64, 3, 2, 2, 4)
	bn := nn.NewBatchNorm2d(tensor.Float64, 2)
	bn.Weight.CopyFrom(tensor.FromFloat64s(tensor.Float64, []float64{2, 0.5}))
	bn.Bias.CopyFrom(tensor.FromFloat64s(tensor.Float64, []float64{-1, 1}))
	y := bn.Forward(nn.NewCtx(nn.Train, nil), ad.Const(x)).Value()
	for c := 0; c < 2; c++ {
		var vals []float64
		for n := 0; n < 3; n++ {
			for i := 0; i < 8; i++ {
				vals = append(vals, x.At(n, c, i/4, i%4))
			}
		}
		mean, v := 0.0, 0.0
		for _, e := range vals {
			mean += e / 24
		}
		for _, e := range vals {
			v += (e - mean) * (e - mean) / 24
		}
		for n := 0; n < 3; n++ {
			for i := 0; i < 8; i++ {
				want := (x.At(n, c, i/4, i%4)-mean)/math.Sqrt(v+1e-5)*bn.Weight.AtFlat(c) + bn.Bias.AtFlat(c)
				if got := y.At(n, c, i/4, i%4); !near(got, want, 1e-12) {
					t.Fatalf("batchnorm2d: %v, want %v", got, want)
				}
			}
		}
		if !near(bn.RunningVar.AtFlat(c), 0.9+0.1*v*24/23, 1e-12) {
			t.Errorf("running var %v, want %v", bn.RunningVar.AtFlat(c), 0.9+0.1*v*24/23)
		}
	}
	ln := nn.NewLayerNorm(tensor.Float64, 4)
	ln.Weight.CopyFrom(tensor.FromFloat64s(tensor.Float64, []float64{1, 2, 3, 4}))
	xl := g.Normal(tensor.Float64, 2, 4)
	yl := ln.Forward(nil, ad.Const(xl)).Value()
	for r := 0; r < 2; r++ {
		mean, v := 0.0, 0.0
		for i := 0; i < 4; i++ {
			mean += xl.At(r, i) / 4
		}
		for i := 0; i < 4; i++ {
			v += (xl.At(r, i) - mean) * (xl.At(r, i) - mean) / 4
		}
		for i := 0; i < 4; i++ {
			want := (xl.At(r, i) - mean) / math.Sqrt(v+1e-5) * float64(i+1)
			if got := yl.At(r, i); !near(got, want, 1e-12) {
				t.Fatalf("layernorm: %v, want %v", got, want)
			}
		}
	}
}

// Dropout keeps the expected value and zeroes about P of the elements, and
// the same seed gives the same mask.
func TestDropout(t *testing.T) {
	x := ad.Const(tensor.Ones(tensor.Float32, 100, 100))
	d := nn.Dropout{P: 0.3}
	y := d.Forward(nn.NewCtx(nn.Train, tensor.NewRNG(1)), x).Value()
	zeros, sum := 0, 0.0
	for i := 0; i < y.Size(); i++ {
		if y.AtFlat(i) == 0 {
			zeros++
		}
		sum += y.AtFlat(i)
	}
	if zeros < 2800 || zeros > 3200 || math.Abs(sum/1e4-1) > 0.03 {
		t.Errorf("%d zeros, mean %v", zeros, sum/1e4)
	}
	y2 := d.Forward(nn.NewCtx(nn.Train, tensor.NewRNG(1)), x).Value()
	for i := 0; i < y.Size(); i++ {
		if y.AtFlat(i) != y2.AtFlat(i) {
			t.Fatal("same seed, different masks")
		}
	}
	if d.Forward(nil, x) != x {
		t.Error("dropout in eval mode is not the identity")
	}
	defer func() {
		if recover() == nil {
			t.Error("training dropout without an RNG did not panic")
		}
	}()
	d.Forward(nn.NewCtx(nn.Train, nil), x)
}
