package check

import (
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// SecondOrder checks second derivatives of the scalarization
// F(x) = ⟨u, f(x)⟩ for a random cotangent u. For random directions v it
// compares
//
//   - the Hessian-vector product H·v of ad.HVP (forward over reverse) with
//     central differences of the gradients ∇F computed by ad.VJP;
//   - reverse over reverse, the gradient of ⟨∇F(x), v⟩ (ad.Grad of
//     ad.Grad), with H·v;
//   - reverse over forward, the gradient of the JVP ∇F(x)·v, with H·v;
//   - forward over forward, the JVP along v of the JVP along w, with
//     ⟨w, H·v⟩ for another random w.
//
// Second derivatives through nonsmooth primitives away from their kinks
// are those of the smooth piece (zero for relu), and are checked as such.
func SecondOrder(f ad.Func, xs []*tensor.Tensor, opt *Options) error {
	p, err := newProblem(f, xs, opt)
	if err != nil {
		return err
	}
	if len(p.groups()) == 0 {
		return nil
	}
	return p.guard(CheckHVP, func() error { return p.second(true) })
}

// Consistency checks that the derivative modes of ad agree with each
// other, without finite differences: JVPvsVJP, and the second-order
// nestings of SecondOrder against the HVP. Unlike the other checks it is
// meaningful at nonsmooth points, where finite differences see no
// particular element of the generalized derivative but every mode must use
// the same one, the Policy's.
func Consistency(f ad.Func, xs []*tensor.Tensor, opt *Options) error {
	if err := JVPvsVJP(f, xs, opt); err != nil {
		return err
	}
	p, err := newProblem(f, xs, opt)
	if err != nil {
		return err
	}
	if len(p.groups()) == 0 {
		return nil
	}
	return p.guard(CheckHVP, func() error { return p.second(false) })
}

// scalarized returns F(x) = Σ u ⊙ f(x), with u converted to the dtype of
// f's output.
func (p *problem) scalarized(u *tensor.Tensor) ad.Func {
	return func(zs ...*ad.Var) *ad.Var {
		y := p.f(zs...)
		uc := u
		if y != nil && y.DType() != u.DType() {
			uc = u.AsType(y.DType())
		}
		return ad.SumAll(ad.Mul(y, ad.Const(uc)))
	}
}

// second runs the second-order comparisons, the one against finite
// differences of gradients only when fd is set.
func (p *problem) second(fd bool) error {
	u := p.cotangent()
	F := p.scalarized(u)
	// the cotangent in the dtype of f's output at the evaluation inputs
	ye, err := p.eval(p.xe)
	if err != nil {
		return err
	}
	ue := ad.Const(u.AsType(ye.DType()))
	for dir := 0; dir < p.dirs; dir++ {
		vs := p.directions(-1)
		hvv, err := ad.HVP(F, consts(p.xs), consts(vs), p.ad)
		if err != nil {
			return err
		}
		hv := make([][]float64, len(hvv))
		for i, h := range hvv {
			hv[i] = h.Value().Float64s()
		}

		if fd {
			if err := p.hvpAgainstDifferences(dir, vs, ue, hv); err != nil {
				return err
			}
		}

		// the other nestings against the HVP
		var inner error
		keep := func(err error) {
			if err != nil && inner == nil {
				inner = err
			}
		}
		vc := consts(vs)
		gradDotV := func(zs ...*ad.Var) *ad.Var {
			gs, err := ad.Grad(F, zs, p.ad)
			keep(err)
			if err != nil {
				return ad.Scalar(u.DType(), 0)
			}
			var s *ad.Var
			for i, g := range gs {
				if !p.wrt[i] {
					continue
				}
				term := ad.SumAll(ad.Mul(g, vc[i]))
				if s == nil {
					s = term
				} else {
					s = ad.Add(s, term)
				}
			}
			return s
		}
		jvpAlong := func(ws []*ad.Var) ad.Func {
			return func(zs ...*ad.Var) *ad.Var {
				_, t, err := ad.JVP(F, zs, ws, p.ad)
				keep(err)
				if err != nil {
					return ad.Scalar(u.DType(), 0)
				}
				return t
			}
		}
		for _, nest := range []struct {
			check string
			g     ad.Func
		}{
			{CheckReverseOverReverse, gradDotV},
			{CheckReverseOverForward, jvpAlong(vc)},
		} {
			gs, err := ad.Grad(nest.g, consts(p.xs), p.ad)
			keep(err)
			if inner != nil {
				return p.errf(nest.check, inner)
			}
			for i, x := range p.xs {
				if !p.wrt[i] {
					continue
				}
				got := gs[i].Value().Float64s()
				ns := make([]float64, len(got))
				for k := range ns {
					ns[k] = 16 * p.epsAD * (math.Abs(got[k]) + math.Abs(hv[i][k]))
				}
				if c := p.compare(got, hv[i], ns); c.failed {
					return p.mismatch(nest.check, c, i, dir, c.k, x.Shape(), false, nest.check, "HVP")
				}
			}
		}

		// forward over forward: ⟨w, H·v⟩
		ws := p.directions(-1)
		_, ff, err := ad.JVP(jvpAlong(consts(ws)), consts(p.xs), vc, p.ad)
		keep(err)
		if inner != nil {
			return p.errf(CheckForwardOverForward, inner)
		}
		var wantFF, m float64
		for i, w := range ws {
			s, mi := dot(w.Float64s(), hv[i])
			wantFF, m = wantFF+s, m+mi
		}
		gotFF := ff.Value().Float64s()[0]
		ns := []float64{16 * p.epsAD * (m + math.Abs(gotFF))}
		if c := p.compare([]float64{gotFF}, []float64{wantFF}, ns); c.failed {
			return p.mismatch(CheckForwardOverForward, c, -1, dir, -1, nil, false, "JVP of JVP", "⟨w, HVP(v)⟩")
		}
	}
	return nil
}

// hvpAgainstDifferences compares the HVP hv along vs with central
// differences of the gradients ∇F computed by ad.VJP (cotangent ue).
func (p *problem) hvpAgainstDifferences(dir int, vs []*tensor.Tensor, ue *ad.Var, hv [][]float64) error {
	want, noise, err := p.diff(func(t float64) ([]float64, []float64, error) {
		_, gs, err := ad.VJP(p.f, consts(p.shifted(vs, t)), ue, p.ad)
		if err != nil {
			return nil, nil, err
		}
		var vals []float64
		for i, g := range gs {
			if p.wrt[i] {
				vals = append(vals, g.Value().Float64s()...)
			}
		}
		mags := make([]float64, len(vals))
		for k, v := range vals {
			mags[k] = math.Abs(v)
		}
		return vals, mags, nil
	})
	if err != nil {
		return err
	}
	off := 0
	for i, x := range p.xs {
		if !p.wrt[i] {
			continue
		}
		n := x.Size()
		w, ns := want[off:off+n], noise[off:off+n]
		off += n
		for k := range ns {
			ns[k] += 16 * p.epsAD * math.Abs(hv[i][k])
		}
		if c := p.compare(hv[i], w, ns); c.failed {
			return p.mismatch(CheckHVP, c, i, dir, c.k, x.Shape(), false, "HVP", "finite differences of gradients")
		}
	}
	return nil
}
