package ad_test

import (
	"hash/fnv"
	"slices"
	"testing"
	"time"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// Benchmarks of the cost of differentiation. Anchor: the same computation
// without differentiation (value only), in the same run; the ratios are
// what matters (PyTorch's cheap-gradient ratio for an MLP is about 2-3).

// BenchmarkTapeOverhead measures, per primitive, on the tiny inputs of the
// registry test (a few to a few dozen elements, so the kernels cost little
// and the bookkeeping shows):
//
//	value:    the primitive on constants (no trace)
//	tape:     the same recorded on a tape (NewTape, Watch, record)
//	backward: recorded and differentiated (Backward with a seed of ones)
//
// The sub-benchmark _empty_tape is the fixed cost of a tape: NewTape and
// one Watch, with nothing recorded.
func BenchmarkTapeOverhead(b *testing.B) {
	one := ad.Const(tensor.Zeros(tensor.Float64, 4))
	b.Run("_empty_tape", func(b *testing.B) {
		for b.Loop() {
			tp, _ := ad.NewTape(nil)
			tp.Watch(one)
		}
	})
	for _, name := range ad.Primitives() {
		c, ok := primCases[name]
		if !ok {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(name))
		f, xs := c.build(tensor.NewRNG(h.Sum64()))
		cs := coreConsts(xs...)
		b.Run(name+"/value", func(b *testing.B) {
			for b.Loop() {
				f(cs...)
			}
		})
		b.Run(name+"/tape", func(b *testing.B) {
			ws := make([]*ad.Var, len(cs))
			for b.Loop() {
				tp, _ := ad.NewTape(nil)
				for i, c := range cs {
					ws[i] = tp.Watch(c)
				}
				f(ws...)
			}
		})
		b.Run(name+"/backward", func(b *testing.B) {
			ws := make([]*ad.Var, len(cs))
			for b.Loop() {
				tp, _ := ad.NewTape(nil)
				for i, c := range cs {
					ws[i] = tp.Watch(c)
				}
				if _, err := tp.Backward(f(ws...), nil, ws...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// mlp is the loss of a 784-512-512-10 relu network with cross-entropy on
// a batch of 128 in float32, as a function of its six parameters.
type mlp struct {
	x      *ad.Var
	labels []int
	params []*ad.Var
}

func newMLP() *mlp {
	g := tensor.NewRNG(2024)
	const batch = 128
	sizes := []int{784, 512, 512, 10}
	m := &mlp{x: ad.Const(g.Normal(tensor.Float32, batch, sizes[0]))}
	for range batch {
		m.labels = append(m.labels, g.IntN(sizes[len(sizes)-1]))
	}
	for l := 0; l+1 < len(sizes); l++ {
		w := g.Normal(tensor.Float32, sizes[l], sizes[l+1])
		w = tensor.Scale(w, 1/float64(sizes[l])) // keep activations O(1)
		m.params = append(m.params, ad.Const(w), ad.Const(tensor.Zeros(tensor.Float32, sizes[l+1])))
	}
	return m
}

func (m *mlp) loss(ps ...*ad.Var) *ad.Var {
	h := m.x
	for l := 0; l < len(ps); l += 2 {
		h = ad.Add(ad.MatMul(h, ps[l]), ps[l+1])
		if l+2 < len(ps) {
			h = ad.Relu(h)
		}
	}
	return ad.CrossEntropy(h, m.labels)
}

// BenchmarkMLPValue is the loss alone (no trace): the anchor of
// BenchmarkMLPValueAndGrad.
func BenchmarkMLPValue(b *testing.B) {
	m := newMLP()
	for b.Loop() {
		m.loss(m.params...)
	}
}

// BenchmarkMLPValueAndGrad is the loss and its gradient in the six
// parameters with ad.ValueAndGrad.
func BenchmarkMLPValueAndGrad(b *testing.B) {
	m := newMLP()
	for b.Loop() {
		if _, _, err := ad.ValueAndGrad(m.loss, m.params, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMLPGradRatio alternates the two and reports the cheap-gradient
// ratio time(value and gradient)/time(value) as the metric grad/value
// (medians over the iterations, so both see the same machine state).
func BenchmarkMLPGradRatio(b *testing.B) {
	m := newMLP()
	var tv, tg []float64
	for b.Loop() {
		t0 := time.Now()
		m.loss(m.params...)
		t1 := time.Now()
		if _, _, err := ad.ValueAndGrad(m.loss, m.params, nil); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		tv = append(tv, float64(t1.Sub(t0)))
		tg = append(tg, float64(t2.Sub(t1)))
	}
	slices.Sort(tv)
	slices.Sort(tg)
	b.ReportMetric(tg[len(tg)/2]/tv[len(tv)/2], "grad/value")
	b.ReportMetric(tv[len(tv)/2]/1e6, "value-ms")
	b.ReportMetric(tg[len(tg)/2]/1e6, "grad-ms")
}
