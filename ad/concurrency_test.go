package ad_test

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// TestConcurrentPolicies differentiates different programs with different
// Policies in several goroutines at once, sharing the input tensors
// (read-only), and checks every result and every goroutine's own counters.
// Run it with -race.
func TestConcurrentPolicies(t *testing.T) {
	iters := 200
	if testing.Short() {
		iters = 20
	}
	// shared inputs: exact zeros (kinks) among other values
	x := coreVec(0, -1, 0, 2, 0.5, 0)
	const zeros = 3
	g := tensor.NewRNG(9)
	a, b := g.Normal(tensor.Float64, 16, 8), g.Normal(tensor.Float64, 8, 4)

	p := func(xs ...*ad.Var) *ad.Var { // relu(x) − relu(−x): derivative 2·ReLU0 at 0
		return ad.SumAll(ad.Sub(ad.Relu(xs[0]), ad.Relu(ad.Neg(xs[0]))))
	}
	type job struct {
		name string
		run  func() error
	}
	reluJob := func(r float64, forward bool) job {
		want := []float64{2 * r, 1, 2 * r, 1, 1, 2 * r}
		return job{fmt.Sprintf("relu ReLU0=%v forward=%v", r, forward), func() error {
			st := &ad.Stats{}
			o := &ad.Options{Policy: ad.Policy{ReLU0: r}, Stats: st}
			var got *tensor.Tensor
			if forward {
				// one JVP per element
				got = tensor.ZerosLike(x)
				for k := range x.Size() {
					v := tensor.ZerosLike(x)
					v.SetFlat(k, 1)
					_, tan, err := ad.JVP(p, coreConsts(x), coreConsts(v), o)
					if err != nil {
						return err
					}
					got.SetFlat(k, tan.Item())
				}
			} else {
				gs, err := ad.Grad(p, coreConsts(x), o)
				if err != nil {
					return err
				}
				got = gs[0].Value()
			}
			for k, w := range want {
				if got.AtFlat(k) != w {
					return fmt.Errorf("element %d: %v, want %v", k, got.AtFlat(k), w)
				}
			}
			calls := 1
			if forward {
				calls = x.Size()
			}
			if st.Kinks["relu"] != 2*zeros*calls {
				return fmt.Errorf("%d relu kinks, want %d", st.Kinks["relu"], 2*zeros*calls)
			}
			return nil
		}}
	}
	absJob := func(a0 float64) job {
		return job{fmt.Sprintf("abs Abs0=%v (HVP and grad)", a0), func() error {
			o := &ad.Options{Policy: ad.Policy{Abs0: a0}}
			f := func(xs ...*ad.Var) *ad.Var { return ad.SumAll(ad.Mul(ad.Abs(xs[0]), xs[0])) } // x|x|
			gs, err := ad.Grad(f, coreConsts(x), o)
			if err != nil {
				return err
			}
			// d(x|x|) = |x| + x·abs'(x): at 0 it is 0 whatever Abs0
			for k := range x.Size() {
				if w := 2 * math.Abs(x.AtFlat(k)); gs[0].Value().AtFlat(k) != w {
					return fmt.Errorf("grad element %d: %v, want %v", k, gs[0].Value().AtFlat(k), w)
				}
			}
			// second derivative 2·sign(x), with 2·Abs0 at 0
			hv, err := ad.HVP(f, coreConsts(x), coreConsts(tensor.OnesLike(x)), o)
			if err != nil {
				return err
			}
			for k := range x.Size() {
				xk := x.AtFlat(k)
				w := 2 * math.Copysign(1, xk)
				if xk == 0 {
					w = 2 * a0
				}
				if hv[0].Value().AtFlat(k) != w {
					return fmt.Errorf("HVP element %d: %v, want %v", k, hv[0].Value().AtFlat(k), w)
				}
			}
			return nil
		}}
	}
	// a smooth program with matrix products (the kernels' worker pool is
	// shared by the goroutines)
	want := func() []float64 {
		gs, err := ad.Grad(mlpish, coreConsts(a, b), nil)
		if err != nil {
			t.Fatal(err)
		}
		return append(gs[0].Value().Float64s(), gs[1].Value().Float64s()...)
	}()
	matJob := job{"matmul chain", func() error {
		gs, err := ad.Grad(mlpish, coreConsts(a, b), nil)
		if err != nil {
			return err
		}
		got := append(gs[0].Value().Float64s(), gs[1].Value().Float64s()...)
		for k := range got {
			if got[k] != want[k] {
				return fmt.Errorf("gradient element %d: %v, want %v", k, got[k], want[k])
			}
		}
		return nil
	}}
	jobs := []job{reluJob(1, false), reluJob(0, false), reluJob(0.5, true), reluJob(1, true), absJob(1), absJob(-1), matJob}

	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for j, jb := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range iters {
				if err := jb.run(); err != nil {
					errs[j] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for j, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", jobs[j].name, err)
		}
	}
}

// mlpish is a small two-layer network loss.
func mlpish(xs ...*ad.Var) *ad.Var {
	h := ad.Tanh(xs[0])
	return ad.SumAll(ad.Square(ad.MatMul(h, xs[1])))
}
