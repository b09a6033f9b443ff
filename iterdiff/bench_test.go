package iterdiff

import (
	"testing"

	"github.com/gradus-ml/gradus/ad"
)

// BenchmarkModes compares the cost of one gradient (reverse) or one
// directional derivative (forward) of a loss of the Lasso solution
// (forward-backward, A 100×50, about 450 iterations) in each mode, against
// the forward solve alone (Detach). Reported: ns/op and the peak stored
// states (states/op).
func BenchmarkModes(b *testing.B) {
	s := newLasso(&testing.T{}, 8, 100, 50)
	y := vecVar(s.y)
	v := vecVar(randVec(newRNG(1), 100))
	for _, c := range []struct {
		name    string
		mode    Mode
		forward bool
	}{
		{"forward-only", Detach{}, false},
		{"implicit-reverse", Implicit{}, false},
		{"implicit-forward", Implicit{}, true},
		{"piggyback-forward", Piggyback{}, true},
		{"piggyback-reverse", Piggyback{}, false},
		{"unroll-reverse-nockpt", Unroll{Checkpoints: CheckpointNone}, false},
		{"unroll-reverse-sqrt", Unroll{}, false},
		{"unroll-reverse-log", Unroll{Checkpoints: 2}, false},
		{"unroll-forward", Unroll{}, true},
		{"one-step-reverse", OneStep{}, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			var info *Info
			f := func(xs ...*ad.Var) *ad.Var {
				x, in, err := FixedPoint(s.step, []*ad.Var{s.x0}, xs, Options{Mode: c.mode, Tol: 1e-12, MaxIter: 10000})
				if err != nil {
					b.Fatal(err)
				}
				info = in
				return ad.SumAll(ad.Square(x[0]))
			}
			for i := 0; i < b.N; i++ {
				var err error
				switch {
				case c.forward:
					_, _, err = ad.JVP(f, []*ad.Var{y}, []*ad.Var{v}, nil)
				case c.name == "forward-only":
					f(y)
				default:
					_, err = ad.Grad(f, []*ad.Var{y}, nil)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(info.StoredStates), "states/op")
		})
	}
}
