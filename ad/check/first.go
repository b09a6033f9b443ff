package check

import (
	"errors"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// Gradient checks reverse mode. With a random cotangent u shaped like
// f(xs), it computes g = Jᵀu with ad.VJP and compares, for every checked
// input i, ⟨gᵢ, d⟩ with finite differences of ⟨u, f(x)⟩ along random
// directions d of input i, then along joint directions of all inputs, and,
// when input i has at most Options.MaxElements elements, every element of
// gᵢ with the finite difference along that element. It returns nil or an
// *Error describing the worst element of the first comparison that failed.
func Gradient(f ad.Func, xs []*tensor.Tensor, opt *Options) error {
	p, err := newProblem(f, xs, opt)
	if err != nil {
		return err
	}
	return p.guard(CheckReverse, p.gradient)
}

func (p *problem) gradient() error {
	u := p.cotangent()
	_, gv, err := ad.VJP(p.f, consts(p.xs), ad.Const(u), p.ad)
	if err != nil {
		return err
	}
	u64 := u.Float64s()
	gs := make([][]float64, len(gv))
	for i, g := range gv {
		gs[i] = g.Value().Float64s()
	}
	// directional checks, one input at a time and then all together
	for _, only := range p.groups() {
		for dir := 0; dir < p.dirs; dir++ {
			ds := p.directions(only)
			var got, m float64
			for i, d := range ds {
				s, mi := dot(gs[i], d.Float64s())
				got, m = got+s, m+mi
			}
			want, noise, err := p.diff(p.phi(u64, ds))
			if err != nil {
				return err
			}
			noise[0] += 16 * p.epsAD * m
			if c := p.compare([]float64{got}, want, noise); c.failed {
				return p.mismatch(CheckReverse, c, only, dir, -1, nil, false, "VJP", "finite differences")
			}
		}
	}
	// element by element for small inputs
	for i, x := range p.xs {
		n := x.Size()
		if !p.wrt[i] || n > p.maxElems {
			continue
		}
		want := make([]float64, n)
		noise := make([]float64, n)
		for k := range n {
			ds, s := p.unitAt(i, k)
			w, ns, err := p.diff(p.phi(u64, ds))
			if err != nil {
				return err
			}
			want[k], noise[k] = w[0]/s, ns[0]/s+16*p.epsAD*math.Abs(gs[i][k])
		}
		if c := p.compare(gs[i], want, noise); c.failed {
			return p.mismatch(CheckReverse, c, i, -1, c.k, x.Shape(), false, "VJP", "finite differences")
		}
	}
	return nil
}

// Forward checks forward mode: for random tangent directions d (for one
// input at a time, then for all together) it compares every element of
// the JVP J·d computed by ad.JVP with finite differences of f along d. It
// returns nil or an *Error naming the worst output element.
func Forward(f ad.Func, xs []*tensor.Tensor, opt *Options) error {
	p, err := newProblem(f, xs, opt)
	if err != nil {
		return err
	}
	return p.guard(CheckForward, p.forward)
}

func (p *problem) forward() error {
	for _, only := range p.groups() {
		for dir := 0; dir < p.dirs; dir++ {
			ds := p.directions(only)
			_, tan, err := ad.JVP(p.f, consts(p.xs), consts(ds), p.ad)
			if err != nil {
				return err
			}
			got := tan.Value().Float64s()
			if len(got) != p.y.Size() {
				return p.errf(CheckForward, errors.New("the tangent's size differs from the output's"))
			}
			want, noise, err := p.diff(func(t float64) ([]float64, []float64, error) {
				y, err := p.eval(p.shifted(ds, t))
				if err != nil {
					return nil, nil, err
				}
				v := y.Float64s()
				m := make([]float64, len(v))
				for k := range v {
					m[k] = math.Abs(v[k])
				}
				return v, m, nil
			})
			if err != nil {
				return err
			}
			for k := range noise {
				noise[k] += 16 * p.epsAD * math.Abs(got[k])
			}
			if c := p.compare(got, want, noise); c.failed {
				return p.mismatch(CheckForward, c, only, dir, c.k, p.y.Shape(), true, "JVP", "finite differences")
			}
		}
	}
	return nil
}

// JVPvsVJP checks that forward and reverse mode agree: for random u and v,
// ⟨u, J·v⟩ computed with ad.JVP equals ⟨Jᵀu, v⟩ computed with ad.VJP, for
// v on one input at a time and on all inputs together.
func JVPvsVJP(f ad.Func, xs []*tensor.Tensor, opt *Options) error {
	p, err := newProblem(f, xs, opt)
	if err != nil {
		return err
	}
	return p.guard(CheckJVPvsVJP, p.jvpVJP)
}

func (p *problem) jvpVJP() error {
	for _, only := range p.groups() {
		for dir := 0; dir < p.dirs; dir++ {
			u := p.cotangent()
			ds := p.directions(only)
			_, tan, err := ad.JVP(p.f, consts(p.xs), consts(ds), p.ad)
			if err != nil {
				return err
			}
			_, gs, err := ad.VJP(p.f, consts(p.xs), ad.Const(u), p.ad)
			if err != nil {
				return err
			}
			a, ma := dot(u.Float64s(), tan.Value().Float64s())
			var b, mb float64
			for i, g := range gs {
				s, m := dot(g.Value().Float64s(), ds[i].Float64s())
				b, mb = b+s, mb+m
			}
			noise := []float64{16 * p.epsAD * (ma + mb)}
			if c := p.compare([]float64{a}, []float64{b}, noise); c.failed {
				return p.mismatch(CheckJVPvsVJP, c, only, dir, -1, nil, false, "⟨u, JVP(v)⟩", "⟨VJP(u), v⟩")
			}
		}
	}
	return nil
}

// All runs Gradient, Forward, JVPvsVJP and SecondOrder and returns their
// errors joined (nil if all pass).
func All(f ad.Func, xs []*tensor.Tensor, opt *Options) error {
	return errors.Join(Gradient(f, xs, opt), Forward(f, xs, opt), JVPvsVJP(f, xs, opt), SecondOrder(f, xs, opt))
}
