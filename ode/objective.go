package ode

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
)

// Cost is an objective on a trajectory: J = ∫_{t0}^{t1} Running(t, x, θ) dt
// + Terminal(x(t1), θ). Either may be nil. Running and Terminal return
// one-element Vars.
type Cost struct {
	Running  func(t float64, x *ad.Var, theta []*ad.Var) *ad.Var
	Terminal func(x *ad.Var, theta []*ad.Var) *ad.Var
}

// Objective returns J for the solution of x' = f(t, x, θ), x(t0) = x0, as a
// Var differentiable in x0 and θ like Solve's results. The integral is
// computed by the solver itself on the augmented state (x, q) with
// q' = Running(t, x, θ), so the discrete adjoint gives the exact gradient of
// the computed J. Options.SaveAt is ignored.
func Objective(f Func, cost Cost, x0 *ad.Var, theta []*ad.Var, t0, t1 float64, o Options) (*ad.Var, *Stats, error) {
	if f == nil || x0 == nil {
		return nil, nil, fmt.Errorf("ode: nil vector field or initial state")
	}
	if cost.Running == nil && cost.Terminal == nil {
		return nil, nil, fmt.Errorf("ode: Objective: empty cost")
	}
	o.SaveAt = nil
	shape := x0.Shape()
	n := x0.Value().Size()
	unpack := func(z *ad.Var) *ad.Var { return ad.Reshape(ad.SliceAxis(z, 0, 0, n), shape...) }
	z0 := ad.Reshape(x0, -1)
	field := f
	if cost.Running != nil {
		z0 = ad.Concat(0, z0, ad.Const(zeros1()))
		field = func(t float64, z *ad.Var, th []*ad.Var) *ad.Var {
			x := unpack(z)
			l := cost.Running(t, x, th)
			if l.Value().Size() != 1 {
				panic(errPanic{fmt.Errorf("ode: Objective: running cost has shape %v, want one element", l.Shape())})
			}
			return ad.Concat(0, ad.Reshape(f(t, x, th), -1), ad.Reshape(l, 1))
		}
	} else {
		field = func(t float64, z *ad.Var, th []*ad.Var) *ad.Var {
			return ad.Reshape(f(t, ad.Reshape(z, shape...), th), -1)
		}
	}
	var sol *Solution
	var err error
	if err = catch(func() { sol, err = Solve(field, z0, theta, t0, t1, o) }); err != nil {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, err
	}
	zT := sol.Final()
	var J *ad.Var
	if cost.Running != nil {
		J = ad.Reshape(ad.SliceAxis(zT, 0, n, n+1))
	}
	if cost.Terminal != nil {
		g := cost.Terminal(unpack(zT), theta)
		if g.Value().Size() != 1 {
			return nil, nil, fmt.Errorf("ode: Objective: terminal cost has shape %v, want one element", g.Shape())
		}
		g = ad.Reshape(g)
		if J == nil {
			J = g
		} else {
			J = ad.Add(J, g)
		}
	}
	return J, sol.Stats, nil
}
