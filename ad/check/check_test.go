package check_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/tensor"
)

// cube is a custom primitive x ↦ x³ whose rules can be made wrong on
// purpose: the checker must catch each kind of mistake.
type cubeBugs struct {
	vjpFactor float64 // multiplies the correct VJP (1: correct)
	jvpFactor float64 // multiplies the correct JVP (1: correct)
	constRule bool    // rules use a constant 3x² (first order right, second order wrong)
}

func cubePrim(b cubeBugs) *ad.Prim {
	deriv := func(c *ad.Call) *ad.Var {
		x := c.In[0]
		if b.constRule {
			return ad.Const(tensor.Scale(tensor.Square(x.Value()), 3))
		}
		return ad.Scale(ad.Square(x), 3)
	}
	return &ad.Prim{
		Name: "cube",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.PowScalar(in[0], 3) },
		JVP: func(c *ad.Call, t []*ad.Var) *ad.Var {
			return ad.Scale(ad.Mul(t[0], deriv(c)), b.jvpFactor)
		},
		VJP: func(c *ad.Call, g *ad.Var) []*ad.Var {
			return []*ad.Var{ad.Scale(ad.Mul(g, deriv(c)), b.vjpFactor)}
		},
	}
}

func cubeFunc(b cubeBugs) ad.Func {
	p := cubePrim(b)
	return func(xs ...*ad.Var) *ad.Var { return ad.Apply(p, nil, xs[0]) }
}

func point(seed uint64, d tensor.DType, shape ...int) *tensor.Tensor {
	return tensor.NewRNG(seed).Uniform(d, 0.5, 2, shape...)
}

func TestCorrectPrimitivePasses(t *testing.T) {
	x := point(1, tensor.Float64, 3, 2)
	if err := check.All(cubeFunc(cubeBugs{vjpFactor: 1, jvpFactor: 1}), []*tensor.Tensor{x}, &check.Options{Name: "cube"}); err != nil {
		t.Fatal(err)
	}
}

func TestWrongVJPFails(t *testing.T) {
	f := cubeFunc(cubeBugs{vjpFactor: 1.01, jvpFactor: 1})
	x := point(2, tensor.Float64, 3, 2)
	xs := []*tensor.Tensor{x}
	err := check.Gradient(f, xs, &check.Options{Name: "cube"})
	var ce *check.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Gradient accepted a VJP off by 1%%: %v", err)
	}
	if ce.Name != "cube" || ce.Check != check.CheckReverse || ce.Input != 0 {
		t.Errorf("error fields: %+v", ce)
	}
	msg := err.Error()
	for _, want := range []string{"cube", "reverse", "input 0", "VJP", "finite differences"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if err := check.JVPvsVJP(f, xs, nil); err == nil {
		t.Error("JVPvsVJP accepted a wrong VJP")
	}
	if err := check.Forward(f, xs, nil); err != nil {
		t.Errorf("Forward failed on a correct JVP: %v", err)
	}
	// the element-by-element pass names the worst element
	err = check.Gradient(f, xs, &check.Options{Name: "cube", Directions: -1})
	if !errors.As(err, &ce) {
		t.Fatalf("no *Error: %v", err)
	}
	if ce.Direction != -1 || ce.Index < 0 || len(ce.MultiIndex) != 2 || ce.Got == ce.Want {
		t.Errorf("element comparison fields: %+v", ce)
	}
	if ce.Got/ce.Want < 1.009 || ce.Got/ce.Want > 1.011 {
		t.Errorf("got/want = %v, want 1.01", ce.Got/ce.Want)
	}
}

func TestWrongJVPFails(t *testing.T) {
	f := cubeFunc(cubeBugs{vjpFactor: 1, jvpFactor: 2})
	xs := []*tensor.Tensor{point(3, tensor.Float64, 4)}
	err := check.Forward(f, xs, &check.Options{Name: "cube"})
	var ce *check.Error
	if !errors.As(err, &ce) || ce.Check != check.CheckForward || !ce.Output || ce.Index < 0 {
		t.Fatalf("Forward: %v", err)
	}
	if !strings.Contains(err.Error(), "output element") {
		t.Errorf("message %q does not name the output element", err)
	}
	if err := check.JVPvsVJP(f, xs, nil); err == nil {
		t.Error("JVPvsVJP accepted a wrong JVP")
	}
	if err := check.Gradient(f, xs, nil); err != nil {
		t.Errorf("Gradient failed on a correct VJP: %v", err)
	}
}

func TestNonDifferentiableRuleFailsSecondOrder(t *testing.T) {
	f := cubeFunc(cubeBugs{vjpFactor: 1, jvpFactor: 1, constRule: true})
	xs := []*tensor.Tensor{point(4, tensor.Float64, 2, 2)}
	if err := errors.Join(check.Gradient(f, xs, nil), check.Forward(f, xs, nil), check.JVPvsVJP(f, xs, nil)); err != nil {
		t.Fatalf("first order should pass: %v", err)
	}
	err := check.SecondOrder(f, xs, &check.Options{Name: "cube"})
	var ce *check.Error
	if !errors.As(err, &ce) || ce.Check != check.CheckHVP {
		t.Fatalf("SecondOrder: %v", err)
	}
	if ce.Got != 0 || ce.Want == 0 {
		t.Errorf("HVP of a constant rule should be 0 against a nonzero reference: %+v", ce)
	}
}

// A rule that is right for the first order but whose own derivative in
// reverse mode is wrong shows up in reverse over reverse only.
func TestNestingMismatchFails(t *testing.T) {
	f := nestingBug()
	xs := []*tensor.Tensor{point(5, tensor.Float64, 3)}
	err := check.SecondOrder(f, xs, &check.Options{Name: "cube"})
	var ce *check.Error
	if !errors.As(err, &ce) || ce.Check != check.CheckReverseOverReverse {
		t.Fatalf("SecondOrder: want a reverse-over-reverse failure, got %v", err)
	}
}

// nestingBug is x ↦ x³ whose rules are right to first order but whose
// derivative in reverse mode is wrong (2×) while forward mode is right.
func nestingBug() ad.Func {
	// the rules of cube use sq3 = 3x², whose JVP is right and whose VJP is
	// scaled by 2
	sq3 := &ad.Prim{
		Name: "sq3",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Scale(tensor.Square(in[0]), 3) },
		JVP: func(c *ad.Call, t []*ad.Var) *ad.Var {
			return ad.Mul(t[0], ad.Scale(c.In[0], 6))
		},
		VJP: func(c *ad.Call, g *ad.Var) []*ad.Var {
			return []*ad.Var{ad.Mul(g, ad.Scale(c.In[0], 12))} // wrong: 2×
		},
	}
	cube := &ad.Prim{
		Name: "cube",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.PowScalar(in[0], 3) },
		JVP: func(c *ad.Call, t []*ad.Var) *ad.Var {
			return ad.Mul(t[0], ad.Apply(sq3, nil, c.In[0]))
		},
		VJP: func(c *ad.Call, g *ad.Var) []*ad.Var {
			return []*ad.Var{ad.Mul(g, ad.Apply(sq3, nil, c.In[0]))}
		},
	}
	return func(xs ...*ad.Var) *ad.Var { return ad.Apply(cube, nil, xs[0]) }
}

func TestPanicBecomesError(t *testing.T) {
	bad := func(xs ...*ad.Var) *ad.Var { return ad.Add(xs[0], xs[1]) }
	xs := []*tensor.Tensor{point(6, tensor.Float64, 2, 3), point(7, tensor.Float64, 4)}
	for name, run := range map[string]func(ad.Func, []*tensor.Tensor, *check.Options) error{
		"Gradient": check.Gradient, "Forward": check.Forward, "JVPvsVJP": check.JVPvsVJP, "SecondOrder": check.SecondOrder,
	} {
		err := run(bad, xs, &check.Options{Name: "badadd"})
		var ce *check.Error
		if !errors.As(err, &ce) || ce.Panic == nil {
			t.Errorf("%s: want an *Error with a panic, got %v", name, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "badadd") || !strings.Contains(msg, "panic") {
			t.Errorf("%s: message %q", name, msg)
		}
	}
	// a panic only in the derivative rules is caught too
	p := &ad.Prim{
		Name: "boom",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return in[0].Clone() },
		JVP:  func(*ad.Call, []*ad.Var) *ad.Var { panic("no JVP") },
		VJP:  func(*ad.Call, *ad.Var) []*ad.Var { panic("no VJP") },
	}
	f := func(xs ...*ad.Var) *ad.Var { return ad.Apply(p, nil, xs[0]) }
	var ce *check.Error
	if err := check.Gradient(f, xs[:1], nil); !errors.As(err, &ce) || ce.Panic != "no VJP" {
		t.Errorf("Gradient: %v", err)
	}
	if err := check.Forward(f, xs[:1], nil); !errors.As(err, &ce) || ce.Panic != "no JVP" {
		t.Errorf("Forward: %v", err)
	}
}

func TestBadArguments(t *testing.T) {
	f := func(xs ...*ad.Var) *ad.Var { return ad.Exp(xs[0]) }
	x := point(8, tensor.Float64, 2)
	for name, c := range map[string]struct {
		f  ad.Func
		xs []*tensor.Tensor
	}{
		"nil f":      {nil, []*tensor.Tensor{x}},
		"no inputs":  {f, nil},
		"nil input":  {f, []*tensor.Tensor{nil}},
		"nil output": {func(...*ad.Var) *ad.Var { return nil }, []*tensor.Tensor{x}},
		"NaN output": {func(xs ...*ad.Var) *ad.Var { return ad.Log(ad.Neg(xs[0])) }, []*tensor.Tensor{x}},
	} {
		err := check.Gradient(c.f, c.xs, nil)
		var ce *check.Error
		if !errors.As(err, &ce) || ce.Check != check.CheckEvaluate {
			t.Errorf("%s: %v", name, err)
		}
	}
	// an invalid Policy is ad's error, wrapped
	err := check.Gradient(f, []*tensor.Tensor{x}, &check.Options{Policy: ad.Policy{ReLU0: 2}})
	var ce *check.Error
	if !errors.As(err, &ce) || ce.Err == nil || !strings.Contains(err.Error(), "ReLU0") {
		t.Errorf("invalid policy: %v", err)
	}
}

// Lower precisions: finite differences run on float64 copies, tolerances
// follow the dtype, and wrong rules are still caught.
func TestDTypes(t *testing.T) {
	f := func(xs ...*ad.Var) *ad.Var { return ad.Tanh(ad.MatMul(xs[0], xs[1])) }
	for _, d := range []tensor.DType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
		g := tensor.NewRNG(9)
		xs := []*tensor.Tensor{g.Uniform(d, -1, 1, 3, 4), g.Uniform(d, -1, 1, 4, 2)}
		if err := check.All(f, xs, &check.Options{Name: "tanh∘matmul " + d.String()}); err != nil {
			t.Errorf("%v: %v", d, err)
		}
	}
	xs := []*tensor.Tensor{point(10, tensor.Float32, 5)}
	if err := check.Gradient(cubeFunc(cubeBugs{vjpFactor: 1.05, jvpFactor: 1}), xs, nil); err == nil {
		t.Error("float32: a VJP off by 5% passed")
	}
	// f that only works in float32 (a float32 constant inside): the check
	// falls back to float32 finite differences and still passes
	c := tensor.Full(tensor.Float32, 0.5, 5)
	g := func(xs ...*ad.Var) *ad.Var { return ad.Mul(ad.Exp(xs[0]), ad.Const(c)) }
	if err := check.All(g, xs, nil); err != nil {
		t.Errorf("float32 without upcast: %v", err)
	}
}

func TestWrtAndDeterminism(t *testing.T) {
	// the second input enters only through a wrong rule; checking only the
	// first input passes
	p := &ad.Prim{
		Name: "wrongsecond",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Mul(in[0], in[1]) },
		JVP: func(c *ad.Call, t []*ad.Var) *ad.Var {
			var r *ad.Var
			if t[0] != nil {
				r = ad.Mul(t[0], c.In[1])
			}
			if t[1] != nil {
				tb := ad.Mul(c.In[0], ad.Scale(t[1], 3)) // wrong
				if r == nil {
					r = tb
				} else {
					r = ad.Add(r, tb)
				}
			}
			return r
		},
		VJP: func(c *ad.Call, g *ad.Var) []*ad.Var {
			return []*ad.Var{ad.Mul(g, c.In[1]), ad.Mul(g, ad.Scale(c.In[0], 3))}
		},
	}
	f := func(xs ...*ad.Var) *ad.Var { return ad.Apply(p, nil, xs[0], xs[1]) }
	xs := []*tensor.Tensor{point(11, tensor.Float64, 3), point(12, tensor.Float64, 3)}
	if err := check.All(f, xs, &check.Options{Wrt: []int{0}}); err != nil {
		t.Errorf("Wrt {0}: %v", err)
	}
	e1 := check.Gradient(f, xs, &check.Options{Seed: 7})
	e2 := check.Gradient(f, xs, &check.Options{Seed: 7})
	var c1, c2 *check.Error
	if !errors.As(e1, &c1) || !errors.As(e2, &c2) || c1.Input != 1 {
		t.Fatalf("Wrt all: %v / %v", e1, e2)
	}
	if c1.Got != c2.Got || c1.Want != c2.Want {
		t.Errorf("same seed, different results: %v vs %v", e1, e2)
	}
}

// The Policy reaches ad: at relu's kink the central differences see the
// average slope 1/2, which only ReLU'(0) = 1/2 reproduces.
func TestPolicyIsPassed(t *testing.T) {
	f := func(xs ...*ad.Var) *ad.Var { return ad.Relu(xs[0]) }
	xs := []*tensor.Tensor{tensor.FromFloat64s(tensor.Float64, []float64{0, 1.5, -2})}
	if err := check.Gradient(f, xs, &check.Options{Policy: ad.Policy{ReLU0: 0.5}}); err != nil {
		t.Errorf("ReLU0 = 0.5: %v", err)
	}
	err := check.Gradient(f, xs, &check.Options{Policy: ad.Policy{ReLU0: 1}, Directions: -1})
	var ce *check.Error
	if !errors.As(err, &ce) || ce.Index != 0 || math.Abs(ce.Got/ce.Want-2) > 1e-9 {
		t.Errorf("ReLU0 = 1 at the kink: want a mismatch at element 0 (slope 1 against 1/2), got %v", err)
	}
}

// Consistency compares the modes only: it passes at a kink, where
// Gradient cannot, and still catches a rule whose modes disagree.
func TestConsistency(t *testing.T) {
	f := func(xs ...*ad.Var) *ad.Var { r := ad.Relu(xs[0]); return ad.Mul(r, ad.Exp(r)) }
	xs := []*tensor.Tensor{tensor.FromFloat64s(tensor.Float64, []float64{0, 1.5, 0, -2})}
	opt := &check.Options{Policy: ad.Policy{ReLU0: 1}}
	if err := check.Consistency(f, xs, opt); err != nil {
		t.Errorf("at the kink: %v", err)
	}
	if err := check.Gradient(f, xs, opt); err == nil {
		t.Error("Gradient should fail at the kink (the differences see the average slope)")
	}
	if err := check.Consistency(cubeFunc(cubeBugs{vjpFactor: 1.01, jvpFactor: 1}), []*tensor.Tensor{point(13, tensor.Float64, 3)}, nil); err == nil {
		t.Error("Consistency accepted a VJP inconsistent with the JVP")
	}
	err := check.Consistency(nestingBug(), []*tensor.Tensor{point(14, tensor.Float64, 3)}, nil)
	var ce *check.Error
	if !errors.As(err, &ce) || ce.Check != check.CheckReverseOverReverse {
		t.Errorf("wrong reverse-mode second derivative: want a reverse-over-reverse mismatch, got %v", err)
	}
}
