package ad_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/tensor"
)

// Core-level tests of the tape, the forward trace, Stats, anomaly mode,
// checkpointing and the errors of the functional API.

func coreVec(v ...float64) *tensor.Tensor { return tensor.FromFloat64s(tensor.Float64, v) }

func coreConsts(ts ...*tensor.Tensor) []*ad.Var {
	vs := make([]*ad.Var, len(ts))
	for i, t := range ts {
		vs[i] = ad.Const(t)
	}
	return vs
}

// coreEqual fails unless got and want agree elementwise within tol.
func coreEqual(t *testing.T, what string, got *tensor.Tensor, want []float64, tol float64) {
	t.Helper()
	if got.Size() != len(want) {
		t.Errorf("%s: %d elements, want %d", what, got.Size(), len(want))
		return
	}
	for i, w := range want {
		if g := got.AtFlat(i); !(math.Abs(g-w) <= tol) {
			t.Errorf("%s[%d] = %v, want %v", what, i, g, w)
		}
	}
}

// corePanic runs f and returns the message it panicked with ("" if none).
func corePanic(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = strings.TrimSpace(strings.ReplaceAll(toString(r), "\n", " "))
		}
	}()
	f()
	return ""
}

func toString(r any) string {
	switch v := r.(type) {
	case string:
		return v
	case error:
		return v.Error()
	}
	return "non-string panic"
}

// TestReluIdentityAtZero: p(x) = relu(x) − relu(−x) is the identity, but
// the derivative computed at 0 is 2·ReLU'(0), through the Tape and the
// Forward trace directly (ad.Grad and ad.JVP are covered by the primitive
// tests). Away from 0 it is 1.
func TestReluIdentityAtZero(t *testing.T) {
	x := coreVec(0, -1.5, 0, 2, math.Copysign(0, -1))
	p := func(x *ad.Var) *ad.Var { return ad.Sub(ad.Relu(x), ad.Relu(ad.Neg(x))) }
	for _, r := range []float64{0, 0.5, 1} {
		want := []float64{2 * r, 1, 2 * r, 1, 2 * r}
		o := &ad.Options{Policy: ad.Policy{ReLU0: r}, Stats: &ad.Stats{}}
		tp, err := ad.NewTape(o)
		if err != nil {
			t.Fatal(err)
		}
		w := tp.WatchTensor(x)
		y := p(w)
		gs, err := tp.Backward(y, nil, w)
		if err != nil {
			t.Fatal(err)
		}
		coreEqual(t, "reverse p'", gs[0].Value(), want, 0)
		if got := o.Stats.Kinks["relu"]; got != 6 {
			t.Errorf("ReLU0=%v: %d relu kinks, want 6 (3 zeros, 2 relus)", r, got)
		}
		fw, err := ad.NewForward(o)
		if err != nil {
			t.Fatal(err)
		}
		s, err := fw.Seed(ad.Const(x), ad.Const(tensor.OnesLike(x)))
		if err != nil {
			t.Fatal(err)
		}
		_, tan := fw.Tangent(p(s))
		coreEqual(t, "forward p'", tan.Value(), want, 0)
	}
}

// TestMaxReduceTies: the derivative of a max or min reduction reaches the
// extreme elements; ties follow Policy.MaxTie in both modes.
func TestMaxReduceTies(t *testing.T) {
	x := coreVec(3, 1, 3, -2, 3, -2) // reshaped [2, 3]: rows (3 1 3) and (−2 3 −2)
	x = x.Reshape(2, 3)
	for _, c := range []struct {
		tie      ad.TieRule
		max, min []float64
	}{
		{ad.TieDefault, []float64{0.5, 0, 0.5, 0, 1, 0}, []float64{0, 1, 0, 0.5, 0, 0.5}},
		{ad.TieSplit, []float64{0.5, 0, 0.5, 0, 1, 0}, []float64{0, 1, 0, 0.5, 0, 0.5}},
		{ad.TieFirst, []float64{1, 0, 0, 0, 1, 0}, []float64{0, 1, 0, 1, 0, 0}},
		{ad.TieLast, []float64{0, 0, 1, 0, 1, 0}, []float64{0, 1, 0, 0, 0, 1}},
	} {
		for _, m := range []struct {
			name string
			f    func(*ad.Var) *ad.Var
			want []float64
		}{
			{"max", func(v *ad.Var) *ad.Var { return ad.Max(v, []int{1}, false) }, c.max},
			{"min", func(v *ad.Var) *ad.Var { return ad.Min(v, []int{1}, false) }, c.min},
		} {
			st := &ad.Stats{}
			o := &ad.Options{Policy: ad.Policy{MaxTie: c.tie}, Stats: st}
			f := func(xs ...*ad.Var) *ad.Var { return ad.SumAll(m.f(xs[0])) }
			gs, err := ad.Grad(f, coreConsts(x), o)
			if err != nil {
				t.Fatal(err)
			}
			coreEqual(t, m.name+" "+c.tie.String()+" reverse", gs[0].Value(), m.want, 0)
			// forward: one JVP per element gives the same weights
			for k := range m.want {
				v := tensor.ZerosLike(x)
				v.SetFlat(k, 1)
				_, tan, err := ad.JVP(f, coreConsts(x), coreConsts(v), o)
				if err != nil {
					t.Fatal(err)
				}
				if got := tan.Item(); got != m.want[k] {
					t.Errorf("%s %v forward, element %d: %v, want %v", m.name, c.tie, k, got, m.want[k])
				}
			}
			// one tied group per call: 1 (reverse) + 6 (forward)
			if got := st.Kinks["max_reduce"]; got != 7 {
				t.Errorf("%s %v: %d kinks, want 7", m.name, c.tie, got)
			}
		}
	}
}

// TestKinkCountsExact builds an input with a known number of exact zeros
// (of both signs) among values far from 0 and checks the kink counters of
// a program applying several nonsmooth primitives, in reverse mode, forward
// mode and through a checkpointed segment.
func TestKinkCountsExact(t *testing.T) {
	const n, zeros = 10000, 1234
	g := tensor.NewRNG(42)
	x := g.Uniform(tensor.Float64, 0.5, 2, n)
	d := x.Data64()
	for i := range d {
		if g.Float64() < 0.5 {
			d[i] = -d[i]
		}
	}
	for i, k := range g.Perm(n)[:zeros] {
		d[k] = 0
		if i%2 == 1 {
			d[k] = math.Copysign(0, -1)
		}
	}
	prog := func(xs ...*ad.Var) *ad.Var {
		r := ad.Relu(xs[0]) // a kink at every zero
		a := ad.Abs(xs[0])  // a kink at every zero
		s := ad.Sqrt(a)     // a kink at every zero
		// a tie in every row of |x| with two zeros or more
		m := ad.Min(ad.Reshape(a, 100, 100), []int{1}, false)
		return ad.Add(ad.SumAll(ad.Add(r, s)), ad.SumAll(m))
	}
	rows := 0
	for i := 0; i < 100; i++ {
		z := 0
		for j := 0; j < 100; j++ {
			if d[100*i+j] == 0 {
				z++
			}
		}
		if z >= 2 {
			rows++
		}
	}
	if rows == 0 {
		t.Fatal("the constructed input has no tied row")
	}
	want := map[string]int{"relu": zeros, "abs": zeros, "sqrt": zeros, "max_reduce": rows}
	checkKinks := func(mode string, st *ad.Stats, scale int) {
		t.Helper()
		for prim, w := range want {
			if got := st.Kinks[prim]; got != scale*w {
				t.Errorf("%s: %s kinks %d, want %d", mode, prim, got, scale*w)
			}
		}
		if got := st.TotalKinks(); got != scale*(3*zeros+rows) {
			t.Errorf("%s: total kinks %d, want %d", mode, got, scale*(3*zeros+rows))
		}
	}

	st := &ad.Stats{}
	if _, err := ad.Grad(prog, coreConsts(x), &ad.Options{Stats: st}); err != nil {
		t.Fatal(err)
	}
	checkKinks("reverse", st, 1)

	st = &ad.Stats{}
	if _, _, err := ad.JVP(prog, coreConsts(x), coreConsts(tensor.OnesLike(x)), &ad.Options{Stats: st}); err != nil {
		t.Fatal(err)
	}
	checkKinks("forward", st, 1)

	// a Hessian-vector product counts each application once (on its
	// reverse trace), not once per nesting level
	st = &ad.Stats{}
	if _, err := ad.HVP(prog, coreConsts(x), coreConsts(tensor.OnesLike(x)), &ad.Options{Stats: st}); err != nil {
		t.Fatal(err)
	}
	checkKinks("HVP", st, 1)

	// a checkpointed segment is evaluated without recording, and counted
	// once when it is recomputed during the backward pass
	st = &ad.Stats{}
	ck := func(xs ...*ad.Var) *ad.Var { return ad.Checkpoint(prog, xs...) }
	if _, err := ad.Grad(ck, coreConsts(x), &ad.Options{Stats: st}); err != nil {
		t.Fatal(err)
	}
	checkKinks("checkpoint", st, 1)

	// Stats accumulate over calls
	st2 := &ad.Stats{}
	st2.Add(st)
	st2.Add(st)
	checkKinks("Stats.Add", st2, 2)
	if !strings.Contains(st.String(), "kinks relu: 1234") {
		t.Errorf("Stats.String lacks the relu kink count:\n%s", st)
	}
}

// TestFlopTotals checks the forward, backward and tangent flop totals of a
// matrix-product chain A·B·C against the closed forms: a product of [m,k]
// by [k,n] costs 2mkn forward, and its JVP and VJP rules each cost two such
// products.
func TestFlopTotals(t *testing.T) {
	const m, k, n, p = 7, 5, 4, 3
	g := tensor.NewRNG(1)
	a, b, c := g.Normal(tensor.Float64, m, k), g.Normal(tensor.Float64, k, n), g.Normal(tensor.Float64, n, p)
	chain := func(xs ...*ad.Var) *ad.Var { return ad.MatMul(ad.MatMul(xs[0], xs[1]), xs[2]) }
	fwd := float64(2*m*k*n + 2*m*n*p)

	st := &ad.Stats{}
	u := g.Normal(tensor.Float64, m, p)
	if _, _, err := ad.VJP(chain, coreConsts(a, b, c), ad.Const(u), &ad.Options{Stats: st}); err != nil {
		t.Fatal(err)
	}
	if st.ForwardFlops != fwd || st.BackwardFlops != 2*fwd || st.TangentFlops != 0 {
		t.Errorf("reverse: flops forward %v backward %v tangent %v, want %v, %v, 0", st.ForwardFlops, st.BackwardFlops, st.TangentFlops, fwd, 2*fwd)
	}
	if st.Calls["matmul"] != 2 {
		t.Errorf("reverse: %d matmul calls, want 2", st.Calls["matmul"])
	}

	st = &ad.Stats{}
	vs := coreConsts(g.Normal(tensor.Float64, m, k), g.Normal(tensor.Float64, k, n), g.Normal(tensor.Float64, n, p))
	if _, _, err := ad.JVP(chain, coreConsts(a, b, c), vs, &ad.Options{Stats: st}); err != nil {
		t.Fatal(err)
	}
	if st.ForwardFlops != fwd || st.TangentFlops != 2*fwd || st.BackwardFlops != 0 {
		t.Errorf("forward: flops forward %v backward %v tangent %v, want %v, 0, %v", st.ForwardFlops, st.BackwardFlops, st.TangentFlops, fwd, 2*fwd)
	}
}

// TestAnomaly: anomaly mode reports the first primitive producing NaN or
// Inf, with its phase and input shapes, for forward values, for cotangents
// only (a finite forward pass) and for tangents.
func TestAnomaly(t *testing.T) {
	x := coreVec(0, 1, 4)
	on := func(p ad.Policy) *ad.Options { return &ad.Options{Anomaly: true, Policy: p} }
	for _, c := range []struct {
		name      string
		f         ad.Func
		policy    ad.Policy
		prim      string
		revPhase  string
		fwdPhase  string
		wantInput int // of the reverse error
	}{
		{"log(0)·0", func(xs ...*ad.Var) *ad.Var { return ad.SumAll(ad.Mul(ad.Log(xs[0]), ad.Scale(xs[0], 0))) },
			ad.Policy{}, "log", "forward", "forward", -1},
		{"sqrt(−1)", func(xs ...*ad.Var) *ad.Var { return ad.SumAll(ad.Sqrt(ad.AddScalar(xs[0], -1))) },
			ad.Policy{}, "sqrt", "forward", "forward", -1},
		{"sqrt at 0 with Sqrt0 = +Inf", func(xs ...*ad.Var) *ad.Var { return ad.SumAll(ad.Sqrt(xs[0])) },
			ad.Policy{Sqrt0: math.Inf(1)}, "sqrt", "backward", "tangent", 0},
		{"x^0.5 at 0", func(xs ...*ad.Var) *ad.Var { return ad.SumAll(ad.PowScalar(xs[0], 0.5)) },
			ad.Policy{}, "pow_scalar", "backward", "tangent", 0},
	} {
		// reverse
		_, err := ad.Grad(c.f, coreConsts(x), on(c.policy))
		var ae *ad.AnomalyError
		if !errors.As(err, &ae) {
			t.Errorf("%s: reverse: want an *ad.AnomalyError, got %v", c.name, err)
		} else {
			if ae.Prim != c.prim || ae.Phase != c.revPhase || ae.Input != c.wantInput || !slices.EqualFunc(ae.InputShapes, [][]int{{3}}, slices.Equal) {
				t.Errorf("%s: reverse: %+v", c.name, ae)
			}
			if msg := err.Error(); !strings.Contains(msg, c.prim) || !strings.Contains(msg, "[[3]]") {
				t.Errorf("%s: message %q does not name %s and the shapes", c.name, msg, c.prim)
			}
		}
		// forward
		_, _, err = ad.JVP(c.f, coreConsts(x), coreConsts(tensor.OnesLike(x)), on(c.policy))
		ae = nil
		if !errors.As(err, &ae) || ae.Prim != c.prim || ae.Phase != c.fwdPhase {
			t.Errorf("%s: forward: want %s anomaly of %s, got %v", c.name, c.fwdPhase, c.prim, err)
		}
		// without anomaly mode no error is returned, the values are just
		// not finite
		gs, err := ad.Grad(c.f, coreConsts(x), &ad.Options{Policy: c.policy})
		if err != nil || !gs[0].Value().HasNaNInf() {
			t.Errorf("%s: without anomaly mode: err %v, gradient %v", c.name, err, gs)
		}
	}
	// finite programs pass in anomaly mode
	if _, err := ad.Grad(func(xs ...*ad.Var) *ad.Var { return ad.SumAll(ad.Exp(xs[0])) }, coreConsts(x), on(ad.Policy{})); err != nil {
		t.Errorf("finite program: %v", err)
	}
}

// TestCheckpointSameGradient: checkpointing changes memory, not results,
// in every mode, for single and multiple outputs.
func TestCheckpointSameGradient(t *testing.T) {
	g := tensor.NewRNG(3)
	x, w := g.Normal(tensor.Float64, 4, 3), g.Normal(tensor.Float64, 3, 3)
	seg := func(z ...*ad.Var) *ad.Var { return ad.Tanh(ad.MatMul(ad.Relu(z[0]), z[1])) }
	segN := func(z ...*ad.Var) []*ad.Var {
		h := ad.MatMul(z[0], z[1])
		return []*ad.Var{ad.Sigmoid(h), ad.SumAll(ad.Square(z[1]))}
	}
	loss := func(h *ad.Var) *ad.Var { return ad.SumAll(ad.Mul(h, h)) }
	plain := func(z ...*ad.Var) *ad.Var { return loss(seg(seg(z[0], z[1]), z[1])) }
	ckpt := func(z ...*ad.Var) *ad.Var {
		return loss(ad.Checkpoint(seg, ad.Checkpoint(seg, z[0], z[1]), z[1]))
	}
	plainN := func(z ...*ad.Var) *ad.Var {
		o := segN(z...)
		return ad.Add(loss(o[0]), o[1])
	}
	ckptN := func(z ...*ad.Var) *ad.Var {
		o := ad.CheckpointN(segN, z...)
		return ad.Add(loss(o[0]), o[1])
	}
	for _, pair := range [][2]ad.Func{{plain, ckpt}, {plainN, ckptN}} {
		xs := coreConsts(x, w)
		va, ga, err := ad.ValueAndGrad(pair[0], xs, nil)
		if err != nil {
			t.Fatal(err)
		}
		vb, gb, err := ad.ValueAndGrad(pair[1], xs, nil)
		if err != nil {
			t.Fatal(err)
		}
		coreEqual(t, "value", vb.Value(), va.Value().Float64s(), 1e-14)
		for i := range ga {
			coreEqual(t, "gradient", gb[i].Value(), ga[i].Value().Float64s(), 1e-13)
		}
		vs := coreConsts(g.Normal(tensor.Float64, 4, 3), g.Normal(tensor.Float64, 3, 3))
		_, ta, err := ad.JVP(pair[0], xs, vs, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, tb, err := ad.JVP(pair[1], xs, vs, nil)
		if err != nil {
			t.Fatal(err)
		}
		coreEqual(t, "JVP", tb.Value(), ta.Value().Float64s(), 1e-13)
		ha, err := ad.HVP(pair[0], xs, vs, nil)
		if err != nil {
			t.Fatal(err)
		}
		hb, err := ad.HVP(pair[1], xs, vs, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range ha {
			coreEqual(t, "HVP", hb[i].Value(), ha[i].Value().Float64s(), 1e-12)
		}
	}
}

// TestTapeErrors covers the errors of Tape.Backward and of the Policy.
func TestTapeErrors(t *testing.T) {
	tp, err := ad.NewTape(nil)
	if err != nil {
		t.Fatal(err)
	}
	w := tp.WatchTensor(coreVec(1, 2, 3))
	y := ad.Scale(w, 2)
	if _, err := tp.Backward(y, ad.Const(coreVec(1, 1)), w); err == nil || !strings.Contains(err.Error(), "[2]") || !strings.Contains(err.Error(), "[3]") {
		t.Errorf("seed shape mismatch: %v", err)
	}
	if _, err := tp.Backward(y, ad.Const(tensor.Ones(tensor.Float32, 3)), w); err == nil || !strings.Contains(err.Error(), "float32") {
		t.Errorf("seed dtype mismatch: %v", err)
	}
	other := ad.Const(coreVec(1))
	if _, err := tp.Backward(y, nil, other); err == nil {
		t.Error("Backward accepted an input that is not on the tape")
	}
	gs, err := tp.Backward(y, ad.Const(coreVec(1, 10, 100)), w)
	if err != nil {
		t.Fatal(err)
	}
	coreEqual(t, "seeded backward", gs[0].Value(), []float64{2, 20, 200}, 0)
	// y independent of the watched input: zeros
	w2 := tp.WatchTensor(coreVec(5, 5))
	gs, err = tp.Backward(y, nil, w2)
	if err != nil {
		t.Fatal(err)
	}
	coreEqual(t, "independent input", gs[0].Value(), []float64{0, 0}, 0)

	for _, p := range []ad.Policy{{ReLU0: 2}, {ReLU0: -0.1}, {Abs0: 1.5}, {Clamp: math.NaN()}, {Sign0: math.NaN()}, {MaxTie: 9}} {
		if _, err := ad.NewTape(&ad.Options{Policy: p}); err == nil {
			t.Errorf("NewTape accepted the invalid policy %+v", p)
		}
		if _, err := ad.NewForward(&ad.Options{Policy: p}); err == nil {
			t.Errorf("NewForward accepted the invalid policy %+v", p)
		}
	}
}

// TestFinishedTapeVarIsConstant: a Var recorded on a tape that has been
// closed acts as its value in later computations, in both modes.
func TestFinishedTapeVarIsConstant(t *testing.T) {
	tp, _ := ad.NewTape(nil)
	a := tp.WatchTensor(coreVec(1, 2, 3))
	y := ad.Mul(a, a) // [1 4 9], on tp
	if _, err := tp.Backward(ad.SumAll(y), nil, a); err != nil {
		t.Fatal(err)
	}
	tp.Close()
	n := tp.Len()
	// reverse: the gradient in z of y·z is y, and none flows into y
	f := func(z ...*ad.Var) *ad.Var { return ad.SumAll(ad.Mul(y, ad.Mul(z[0], z[0]))) }
	gs, err := ad.Grad(f, coreConsts(coreVec(1, 1, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	coreEqual(t, "grad with old Var", gs[0].Value(), []float64{2, 8, 18}, 0)
	// forward: the tangent of y·z along v is y·v
	g := func(z ...*ad.Var) *ad.Var { return ad.Mul(y, z[0]) }
	_, tan, err := ad.JVP(g, coreConsts(coreVec(1, 1, 1)), coreConsts(coreVec(1, -1, 2)), nil)
	if err != nil {
		t.Fatal(err)
	}
	coreEqual(t, "JVP with old Var", tan.Value(), []float64{1, -4, 18}, 0)
	// plain use outside any trace, and nothing more recorded on tp
	z := ad.Add(y, y)
	coreEqual(t, "value", z.Value(), []float64{2, 8, 18}, 0)
	if !z.IsConst() {
		t.Error("an operation on Vars of a closed tape only should give a constant")
	}
	if tp.Len() != n {
		t.Errorf("closed tape grew from %d to %d nodes", n, tp.Len())
	}
}

// TestShapeMismatchPanics: misuse of tensor math panics with a message
// naming the operation and both shapes, traced or not.
func TestShapeMismatchPanics(t *testing.T) {
	z := func(s ...int) *ad.Var { return ad.Const(tensor.Zeros(tensor.Float64, s...)) }
	tp, _ := ad.NewTape(nil)
	fw, _ := ad.NewForward(nil)
	seeded := func(s ...int) *ad.Var {
		v, err := fw.Seed(z(s...), z(s...))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name string
		f    func()
		want []string
	}{
		{"Add", func() { ad.Add(z(2, 3), z(4)) }, []string{"Add", "[2 3]", "[4]"}},
		{"Add on a tape", func() { ad.Add(tp.Watch(z(2, 3)), z(4)) }, []string{"Add", "[2 3]", "[4]"}},
		{"Add in forward mode", func() { ad.Add(seeded(2, 3), z(4)) }, []string{"Add", "[2 3]", "[4]"}},
		{"Mul", func() { ad.Mul(z(3, 2), z(3)) }, []string{"Mul", "[3 2]", "[3]"}},
		{"MatMul", func() { ad.MatMul(z(2, 3), z(4, 5)) }, []string{"MatMul", "[2 3]", "[4 5]"}},
		{"Concat", func() { ad.Concat(0, z(2, 3), z(2, 4)) }, []string{"Concat", "[2 3]", "[2 4]"}},
		{"Reshape", func() { ad.Reshape(z(2, 3), 4) }, []string{"eshape", "[2 3]", "[4]"}},
		{"BroadcastTo", func() { ad.BroadcastTo(z(2, 3), 4, 3) }, []string{"BroadcastTo", "[2 3]", "[4 3]"}},
		{"Stack", func() { ad.Stack(0, z(2), z(3)) }, []string{"Stack", "[2]", "[3]"}},
	} {
		msg := corePanic(c.f)
		if msg == "" {
			t.Errorf("%s: no panic", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: panic message %q lacks %q", c.name, msg, w)
			}
		}
	}
}

// TestFunctionalAPIErrors checks the documented errors of the functional
// API: they are returned, never panicked.
func TestFunctionalAPIErrors(t *testing.T) {
	x := coreConsts(coreVec(1, 2, 3))
	id := func(xs ...*ad.Var) *ad.Var { return ad.Scale(xs[0], 2) }
	sum := func(xs ...*ad.Var) *ad.Var { return ad.SumAll(xs[0]) }
	bad := &ad.Options{Policy: ad.Policy{ReLU0: 2}}
	v3 := coreConsts(coreVec(1, 1, 1))
	for _, c := range []struct {
		name string
		run  func() error
		want string
	}{
		{"Grad of a non-scalar", func() error { _, err := ad.Grad(id, x, nil); return err }, "[3]"},
		{"ValueAndGrad of a non-scalar", func() error { _, _, err := ad.ValueAndGrad(id, x, nil); return err }, "one-element"},
		{"Grad with invalid policy", func() error { _, err := ad.Grad(sum, x, bad); return err }, "ReLU0"},
		{"Grad of nil output", func() error {
			_, err := ad.Grad(func(...*ad.Var) *ad.Var { return nil }, x, nil)
			return err
		}, "nil"},
		{"Grad with a nil input", func() error { _, err := ad.Grad(sum, []*ad.Var{nil}, nil); return err }, "nil"},
		{"VJP with nil cotangent", func() error { _, _, err := ad.VJP(id, x, nil, nil); return err }, "cotangent"},
		{"VJP with wrong cotangent shape", func() error {
			_, _, err := ad.VJP(id, x, ad.Const(coreVec(1, 1)), nil)
			return err
		}, "[2]"},
		{"VJP with wrong cotangent dtype", func() error {
			_, _, err := ad.VJP(id, x, ad.Const(tensor.Ones(tensor.Float32, 3)), nil)
			return err
		}, "float32"},
		{"JVP tangent shape mismatch", func() error {
			_, _, err := ad.JVP(id, x, coreConsts(coreVec(1, 1)), nil)
			return err
		}, "[2]"},
		{"JVP tangent dtype mismatch", func() error {
			_, _, err := ad.JVP(id, x, coreConsts(tensor.Ones(tensor.Float32, 3)), nil)
			return err
		}, "float32"},
		{"JVP tangent count", func() error { _, _, err := ad.JVP(id, x, nil, nil); return err }, "tangents"},
		{"JVP with invalid policy", func() error { _, _, err := ad.JVP(id, x, v3, bad); return err }, "ReLU0"},
		{"HVP of a non-scalar", func() error { _, err := ad.HVP(id, x, v3, nil); return err }, "one-element"},
		{"HVP direction count", func() error { _, err := ad.HVP(sum, x, nil, nil); return err }, "directions"},
		{"HVP with invalid policy", func() error { _, err := ad.HVP(sum, x, v3, bad); return err }, "ReLU0"},
		{"Jacobian unknown mode", func() error {
			_, err := ad.Jacobian(func(v *ad.Var) *ad.Var { return v }, x[0], ad.JacobianMode(7), nil)
			return err
		}, "mode"},
		{"Jacobian with invalid policy", func() error {
			_, err := ad.Jacobian(func(v *ad.Var) *ad.Var { return v }, x[0], ad.Reverse, bad)
			return err
		}, "ReLU0"},
	} {
		var err error
		if msg := corePanic(func() { err = c.run() }); msg != "" {
			t.Errorf("%s: panicked: %s", c.name, msg)
			continue
		}
		if err == nil {
			t.Errorf("%s: no error", c.name)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q lacks %q", c.name, err, c.want)
		}
	}
}

// TestMixedDTypes: the functional API and CheckpointN accept inputs and
// outputs of different dtypes (HVP and CheckpointN pack several tensors
// into one internally).
func TestMixedDTypes(t *testing.T) {
	x32 := tensor.FromFloat64s(tensor.Float32, []float64{0.5, -1.5})
	x64 := coreVec(2, 3, -1)
	// f = Σ x32²·Σ x64³ in float64
	f := func(xs ...*ad.Var) *ad.Var {
		a := ad.SumAll(ad.Square(ad.Cast(xs[0], tensor.Float64)))
		return ad.Mul(a, ad.SumAll(ad.PowScalar(xs[1], 3)))
	}
	v32 := tensor.FromFloat64s(tensor.Float32, []float64{1, 2})
	v64 := coreVec(1, 0, -1)
	hv, err := ad.HVP(f, coreConsts(x32, x64), coreConsts(v32, v64), nil)
	if err != nil {
		t.Fatal(err)
	}
	// H = [[2·S3·I, 6·x32·(x64²)ᵀ], [6·x64²·x32ᵀ, 6·S2·diag(x64)]] with
	// S2 = Σ x32² = 2.5, S3 = Σ x64³ = 34
	if hv[0].DType() != tensor.Float32 || hv[1].DType() != tensor.Float64 {
		t.Errorf("HVP dtypes %v, %v; want float32, float64", hv[0].DType(), hv[1].DType())
	}
	// x64²·v64 = 4 − 1 = 3; x32·v32 = 0.5 − 3 = −2.5
	coreEqual(t, "HVP float32 part", hv[0].Value(), []float64{2*34*1 + 6*0.5*3, 2*34*2 + 6*-1.5*3}, 1e-4)
	coreEqual(t, "HVP float64 part", hv[1].Value(), []float64{6*4*-2.5 + 6*2.5*2*1, 6 * 9 * -2.5, 6*1*-2.5 + 6*2.5*-1*-1}, 1e-12)

	seg := func(z ...*ad.Var) []*ad.Var {
		return []*ad.Var{ad.Square(z[0]), ad.Exp(z[1])}
	}
	g := func(ck bool) ad.Func {
		return func(z ...*ad.Var) *ad.Var {
			var o []*ad.Var
			if ck {
				o = ad.CheckpointN(seg, z...)
			} else {
				o = seg(z...)
			}
			if o[0].DType() != tensor.Float32 || o[1].DType() != tensor.Float64 {
				t.Errorf("CheckpointN output dtypes %v, %v", o[0].DType(), o[1].DType())
			}
			return ad.Add(ad.SumAll(ad.Cast(o[0], tensor.Float64)), ad.SumAll(o[1]))
		}
	}
	want, err := ad.Grad(g(false), coreConsts(x32, x64), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ad.Grad(g(true), coreConsts(x32, x64), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		coreEqual(t, "CheckpointN gradient", got[i].Value(), want[i].Value().Float64s(), 0)
	}
}

// TestCheckpointCapturedVar: a segment must receive the Vars it
// differentiates as inputs. One that captures a traced Var from outside
// would lose that Var's derivative silently, so Checkpoint panics; captured
// constants are fine.
func TestCheckpointCapturedVar(t *testing.T) {
	x, w := coreVec(1, 2, 3), coreVec(0.5, -1, 2)
	capturing := func(xs ...*ad.Var) *ad.Var {
		wv := xs[1]
		return ad.SumAll(ad.Checkpoint(func(z ...*ad.Var) *ad.Var { return ad.Mul(z[0], ad.Tanh(wv)) }, xs[0]))
	}
	for mode, run := range map[string]func() error{
		"reverse": func() error { _, err := ad.Grad(capturing, coreConsts(x, w), nil); return err },
		"forward": func() error {
			_, _, err := ad.JVP(capturing, coreConsts(x, w), coreConsts(x, w), nil)
			return err
		},
	} {
		msg := corePanic(func() { run() })
		if !strings.Contains(msg, "ad.Checkpoint") || !strings.Contains(msg, "[3]") {
			t.Errorf("%s: want a panic naming ad.Checkpoint, got %q", mode, msg)
		}
	}
	// a captured constant is part of the segment
	wc := ad.Const(w)
	f := func(xs ...*ad.Var) *ad.Var {
		return ad.SumAll(ad.Checkpoint(func(z ...*ad.Var) *ad.Var { return ad.Mul(z[0], ad.Tanh(wc)) }, xs[0]))
	}
	gs, err := ad.Grad(f, coreConsts(x), nil)
	if err != nil {
		t.Fatal(err)
	}
	coreEqual(t, "captured constant", gs[0].Value(), []float64{math.Tanh(0.5), math.Tanh(-1), math.Tanh(2)}, 1e-15)
}

// TestSiblingTraces: two traces opened one after the other (not one inside
// a function differentiated by the other) each see their own inputs'
// derivatives of c = a²·b, in both modes, and the older tape
// differentiates the newer one's result (a mixed second derivative).
func TestSiblingTraces(t *testing.T) {
	tA, _ := ad.NewTape(nil)
	a := tA.WatchTensor(coreVec(2))
	tB, _ := ad.NewTape(nil)
	b := tB.WatchTensor(coreVec(3))
	c := ad.Mul(ad.Mul(a, a), b)
	gb, err := tB.Backward(c, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	coreEqual(t, "∂c/∂b", gb[0].Value(), []float64{4}, 0)
	ga, err := tA.Backward(c, nil, a)
	if err != nil {
		t.Fatal(err)
	}
	coreEqual(t, "∂c/∂a", ga[0].Value(), []float64{12}, 0)
	gab, err := tA.Backward(gb[0], nil, a)
	if err != nil {
		t.Fatal(err)
	}
	coreEqual(t, "∂²c/∂a∂b", gab[0].Value(), []float64{4}, 0)

	fA, _ := ad.NewForward(nil)
	x, _ := fA.Seed(ad.Const(coreVec(2)), ad.Const(coreVec(1)))
	fB, _ := ad.NewForward(nil)
	y, _ := fB.Seed(ad.Const(coreVec(3)), ad.Const(coreVec(1)))
	z := ad.Mul(ad.Mul(x, x), y)
	_, ty := fB.Tangent(z)
	_, tx := fA.Tangent(z)
	coreEqual(t, "forward ∂z/∂y", ty.Value(), []float64{4}, 0)
	coreEqual(t, "forward ∂z/∂x", tx.Value(), []float64{12}, 0)

	// a tape and a forward trace side by side
	tp, _ := ad.NewTape(nil)
	p := tp.WatchTensor(coreVec(2))
	fw, _ := ad.NewForward(nil)
	q, _ := fw.Seed(ad.Const(coreVec(3)), ad.Const(coreVec(1)))
	r := ad.Mul(ad.Mul(p, p), q)
	_, tq := fw.Tangent(r)
	coreEqual(t, "mixed ∂r/∂q", tq.Value(), []float64{4}, 0)
	gp, err := tp.Backward(r, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	coreEqual(t, "mixed ∂r/∂p", gp[0].Value(), []float64{12}, 0)
}

// TestRuleResultsChecked: a derivative rule returning a tangent or
// cotangent of the wrong shape or dtype (a bug in a custom Prim) panics
// with the primitive's name instead of broadcasting into a wrong result.
func TestRuleResultsChecked(t *testing.T) {
	bad := &ad.Prim{
		Name: "badrule",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return in[0].Clone() },
		JVP:  func(c *ad.Call, tn []*ad.Var) *ad.Var { return ad.SumAll(tn[0]) },                     // [] for [3]
		VJP:  func(c *ad.Call, g *ad.Var) []*ad.Var { return []*ad.Var{ad.Cast(g, tensor.Float32)} }, // wrong dtype
	}
	f := func(xs ...*ad.Var) *ad.Var { return ad.SumAll(ad.Apply(bad, nil, xs[0])) }
	x := coreConsts(coreVec(1, 2, 3))
	msg := corePanic(func() { ad.Grad(f, x, nil) })
	if !strings.Contains(msg, "badrule") || !strings.Contains(msg, "float32") {
		t.Errorf("VJP: %q", msg)
	}
	msg = corePanic(func() { ad.JVP(f, x, x, nil) })
	if !strings.Contains(msg, "badrule") || !strings.Contains(msg, "[3]") {
		t.Errorf("JVP: %q", msg)
	}
	few := &ad.Prim{
		Name: "fewcotangents",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Add(in[0], in[1]) },
		VJP:  func(c *ad.Call, g *ad.Var) []*ad.Var { return []*ad.Var{g} },
	}
	g := func(xs ...*ad.Var) *ad.Var { return ad.SumAll(ad.Apply(few, nil, xs[0], xs[0])) }
	if msg := corePanic(func() { ad.Grad(g, x, nil) }); !strings.Contains(msg, "fewcotangents") {
		t.Errorf("cotangent count: %q", msg)
	}
}

// TestKinkModeConsistency evaluates every nonsmooth primitive exactly at
// its kinks (and ties) under several Policies and checks that all modes
// use the same element of the generalized derivative: ⟨u, J·v⟩ agrees in
// forward and reverse mode, and the Hessian-vector products of all four
// nestings agree (check.Consistency; finite differences mean nothing here).
func TestKinkModeConsistency(t *testing.T) {
	// zeros, ±0.5, 1, 6 and ties within rows, columns and 2×2 windows
	x := coreVec(0, -1, 0, 6, 1, -0.5, 0.5, 0, 6, 1, 2.5, -2).Reshape(3, 4)
	y := coreVec(0, 1, 0, 6, 1, 0.5, 0.5, 3, 6, 1, 2.5, -2).Reshape(3, 4)
	unary := map[string]func(*ad.Var) *ad.Var{
		"relu":           ad.Relu,
		"leaky_relu":     func(v *ad.Var) *ad.Var { return ad.LeakyRelu(v, 0.1) },
		"relu6":          ad.Relu6,
		"abs":            ad.Abs,
		"sign":           ad.Sign,
		"clamp":          func(v *ad.Var) *ad.Var { return ad.Clamp(v, -0.5, 1) },
		"hinge":          ad.Hinge,
		"soft_threshold": func(v *ad.Var) *ad.Var { return ad.SoftThreshold(v, 0.5) },
		"max_reduce":     func(v *ad.Var) *ad.Var { return ad.Max(v, []int{1}, false) },
		"min_reduce":     func(v *ad.Var) *ad.Var { return ad.Min(v, nil, false) },
		"sqrt":           func(v *ad.Var) *ad.Var { return ad.Sqrt(ad.Abs(v)) },
		"max_pool2d": func(v *ad.Var) *ad.Var {
			return ad.MaxPool2d(ad.Reshape(v, 1, 1, 3, 4), ad.Pool2dOptions{Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}})
		},
	}
	binary := map[string]func(a, b *ad.Var) *ad.Var{"maximum": ad.Maximum, "minimum": ad.Minimum}
	policies := []ad.Policy{
		{},
		{ReLU0: 1, Abs0: -1, Sign0: 2, Sqrt0: 3, Clamp: 1, Hinge0: 0.5, SoftThreshold0: 1, MaxTie: ad.TieFirst, PoolTie: ad.TieSplit},
		{ReLU0: 0.3, Abs0: 0.7, Clamp: 0.5, MaxTie: ad.TieLast, PoolTie: ad.TieLast},
	}
	for pi, pol := range policies {
		for name, f := range unary {
			// composed with a smooth function so second derivatives are not 0
			g := func(xs ...*ad.Var) *ad.Var { h := f(xs[0]); return ad.Mul(h, ad.Sin(h)) }
			if err := check.Consistency(g, []*tensor.Tensor{x}, &check.Options{Name: name, Policy: pol}); err != nil {
				t.Errorf("policy %d: %v", pi, err)
			}
		}
		for name, f := range binary {
			g := func(xs ...*ad.Var) *ad.Var { h := f(xs[0], xs[1]); return ad.Mul(h, ad.Sin(h)) }
			if err := check.Consistency(g, []*tensor.Tensor{x, y}, &check.Options{Name: name, Policy: pol}); err != nil {
				t.Errorf("policy %d: %v", pi, err)
			}
		}
	}
}
