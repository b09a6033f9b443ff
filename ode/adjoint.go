package ode

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// saveCotangents splits the cotangent of the stacked outputs.
func (p *solveParams) saveCotangents(g *ad.Var) []*ad.Var {
	gs := make([]*ad.Var, len(p.saves))
	for i := range gs {
		gs[i] = ad.Reshape(ad.SliceAxis(g, 0, i, i+1), p.xshape...)
	}
	return gs
}

func addTo(acc []*ad.Var, gs []*ad.Var) {
	for i, g := range gs {
		switch {
		case g == nil:
		case acc[i] == nil:
			acc[i] = g
		default:
			acc[i] = ad.Add(acc[i], g)
		}
	}
}

// discreteAdjoint differentiates the steps in reverse, one step on a tape
// at a time, recomputing the states between checkpoints.
func (p *solveParams) discreteAdjoint(c *ad.Call, g *ad.Var) []*ad.Var {
	opts := p.innerOptions(c)
	th := c.In[1:]
	N := len(p.ts)
	every := max(1, p.ckEvery)
	gsave := p.saveCotangents(g)
	// the checkpoints as Vars at this level: the stored values when the
	// inputs are constants, else recomputed from the inputs so that outer
	// traces see their dependence on x0 and θ
	traced := !c.In[0].IsConst()
	for _, x := range th {
		traced = traced || !x.IsConst()
	}
	var cks []*ad.Var
	recomputed := 0
	if traced || len(p.ckpt) == 0 {
		y := c.In[0]
		for k := 0; k < N; k++ {
			if k%every == 0 {
				cks = append(cks, y)
			}
			y = p.replay(k, y, th, nil)
			recomputed++
		}
	} else {
		cks = consts(p.ckpt)
	}
	var lam *ad.Var // cotangent of the current state
	gth := make([]*ad.Var, len(th))
	peak := 0
	for s := len(cks) - 1; s >= 0; s-- {
		start, end := s*every, min((s+1)*every, N)
		states := []*ad.Var{cks[s]}
		for k := start; k < end-1; k++ {
			states = append(states, p.replay(k, states[len(states)-1], th, nil))
			recomputed++
		}
		peak = max(peak, len(cks)+len(states)-1)
		for k := end - 1; k >= start; k-- {
			tp, err := ad.NewTape(opts)
			if err != nil {
				panic(err)
			}
			yw := tp.Watch(states[k-start])
			thw := make([]*ad.Var, len(th))
			for i, x := range th {
				thw[i] = tp.Watch(x)
			}
			var J *ad.Var
			add := func(v, w *ad.Var) {
				term := ad.SumAll(ad.Mul(v, w))
				if J == nil {
					J = term
				} else {
					J = ad.Add(J, term)
				}
			}
			y1 := p.replay(k, yw, thw, func(i int, v *ad.Var) { add(v, gsave[i]) })
			if lam != nil {
				add(y1, lam)
			}
			if J == nil {
				tp.Close()
				continue // nothing flows through this step yet
			}
			gs, err := tp.Backward(J, nil, append([]*ad.Var{yw}, thw...)...)
			tp.Close()
			if err != nil {
				panic(fmt.Sprintf("ode: discrete adjoint: %v", err))
			}
			lam = gs[0]
			addTo(gth, gs[1:])
		}
	}
	st := p.stats
	st.Sensitivity, st.Approximate = "discrete-adjoint", false
	st.DerivSteps, st.DerivRejected = N, 0
	st.DerivFEvals = N * len(tableaus[p.o.Method].c)
	st.StoredStates, st.Recomputed = peak, recomputed
	return append([]*ad.Var{lam}, gth...)
}

// backsolve integrates the adjoint system backward in time with x itself:
// x' = f, λ' = −(∂f/∂x)ᵀλ, θ̄' = −(∂f/∂θ)ᵀλ, adding the cotangents of the
// outputs at their times. It works on values: its result is not
// differentiable again.
func (p *solveParams) backsolve(c *ad.Call, g *ad.Var) []*ad.Var {
	bs := p.o.Adjoint.(Backsolve)
	rtol, atol := bs.RTol, bs.ATol
	if rtol <= 0 {
		rtol = p.o.rtol()
	}
	if atol <= 0 {
		atol = p.o.atol()
	}
	opts := p.innerOptions(c)
	th := make([]*ad.Var, len(c.In)-1)
	sizes := make([]int, len(th))
	for i, x := range c.In[1:] {
		th[i] = ad.Const(x.Value())
		sizes[i] = x.Value().Size()
	}
	n := 1
	for _, d := range p.xshape {
		n *= d
	}
	gsave := p.saveCotangents(g)
	// the augmented state z = (x, λ, θ̄), flat
	S := len(p.saves)
	xT := c.Out.Value()
	z := make([]float64, 2*n)
	copy(z[:n], tensor.Slice(xT, 0, S-1, S).Float64s())
	var total int
	for _, s := range sizes {
		total += s
	}
	z = append(z, make([]float64, total)...)
	evals := 0
	aug := func(t float64, zv *ad.Var) *ad.Var {
		evals++
		zd := zv.Value().Float64s()
		tp, err := ad.NewTape(opts)
		if err != nil {
			panic(err)
		}
		defer tp.Close()
		x := tp.Watch(ad.Const(tensor.FromFloat64s(tensor.Float64, zd[:n], p.xshape...)))
		thw := make([]*ad.Var, len(th))
		for i, v := range th {
			thw[i] = tp.Watch(v)
		}
		fx := p.f(t, x, thw)
		lam := ad.Const(tensor.FromFloat64s(tensor.Float64, zd[n:2*n], p.xshape...))
		gs, err := tp.Backward(fx, lam, append([]*ad.Var{x}, thw...)...)
		if err != nil {
			panic(fmt.Sprintf("ode: backsolve: %v", err))
		}
		out := make([]float64, 0, len(zd))
		out = append(out, fx.Value().Float64s()...)
		for _, gi := range gs {
			for _, v := range gi.Value().Float64s() {
				out = append(out, -v)
			}
		}
		return ad.Const(tensor.Wrap64(out, len(out)))
	}
	var cnt counts
	zv := ad.Const(tensor.Wrap64(z, len(z)))
	for i := S - 1; i >= 0; i-- {
		// add the cotangent of output i, then integrate down to the
		// previous output time (or t0)
		zd := zv.Value().Float64s()
		for j, v := range gsave[i].Value().Float64s() {
			zd[n+j] += v
		}
		zv = ad.Const(tensor.Wrap64(zd, len(zd)))
		from, to := p.saves[i], p.t0
		if i > 0 {
			to = p.saves[i-1]
		}
		var err error
		zv, err = integrate(p.o.Method, aug, zv, from, []float64{to}, p.o.Step, 0, p.o.MaxStep, rtol, atol, p.o.maxSteps(), nil, &cnt)
		if err != nil {
			panic(fmt.Sprintf("ode: backsolve adjoint failed: %v", err))
		}
	}
	zd := zv.Value().Float64s()
	out := []*ad.Var{ad.Const(tensor.FromFloat64s(tensor.Float64, zd[n:2*n], p.xshape...))}
	off := 2 * n
	for i, x := range c.In[1:] {
		out = append(out, ad.Const(tensor.FromFloat64s(tensor.Float64, zd[off:off+sizes[i]], x.Shape()...)))
		off += sizes[i]
	}
	st := p.stats
	st.Sensitivity, st.Approximate = "backsolve", true
	st.DerivSteps, st.DerivRejected, st.DerivFEvals = cnt.steps, cnt.rejected, evals
	st.StoredStates, st.Recomputed = 1, 0
	return out
}
